//! Type spellings, array wrappers and structs from the host layout.
//!
//! A struct is written member by member in offset order, with explicit
//! `rk_u8 rk_padN[k]` members wherever the host layout has more padding
//! than C's natural layout would, `__align__` with the host alignment, and
//! `static_assert`s on size, alignment and every member offset: host and
//! device can never disagree silently. (The validator has already rejected
//! layouts C cannot express: misaligned members, under-aligned structs.)

use std::fmt::{self, Write as _};

use crate::arena::Handle;
use crate::ir::{FloatKind, IntKind, Scalar, StructType, Type};
use crate::valid::{type_align, type_size};

use super::writer::Writer;
use super::Error;

/// The C type of a scalar.
pub(super) fn c_scalar(s: Scalar) -> &'static str {
    match s {
        Scalar::Bool => "bool",
        Scalar::Int(k) => match k {
            IntKind::I8 => "rk_i8",
            IntKind::I16 => "rk_i16",
            IntKind::I32 => "rk_i32",
            IntKind::I64 => "rk_i64",
            IntKind::Isize => "rk_isize",
            IntKind::U8 => "rk_u8",
            IntKind::U16 => "rk_u16",
            IntKind::U32 => "rk_u32",
            IntKind::U64 => "rk_u64",
            IntKind::Usize => "rk_usize",
        },
        Scalar::Float(FloatKind::F32) => "float",
        Scalar::Float(FloatKind::F64) => "double",
    }
}

/// The suffix of `rk_rust.cuh` helpers for a scalar: isize/usize share the
/// 64-bit helpers.
pub(super) fn suffix(s: Scalar) -> &'static str {
    match s {
        Scalar::Bool => "bool",
        Scalar::Int(k) => match k {
            IntKind::I8 => "i8",
            IntKind::I16 => "i16",
            IntKind::I32 => "i32",
            IntKind::I64 | IntKind::Isize => "i64",
            IntKind::U8 => "u8",
            IntKind::U16 => "u16",
            IntKind::U32 => "u32",
            IntKind::U64 | IntKind::Usize => "u64",
        },
        Scalar::Float(FloatKind::F32) => "f32",
        Scalar::Float(FloatKind::F64) => "f64",
    }
}

/// The unsigned type that wrapping arithmetic on `k` is done in: at least
/// 32 bits, so that C's promotion to `int` never overflows (`u16 * u16`
/// would), and unsigned, so that overflow wraps instead of being UB.
pub(super) fn wide_unsigned(k: IntKind) -> &'static str {
    if k.bits() == 64 {
        "rk_u64"
    } else {
        "rk_u32"
    }
}

impl<W: fmt::Write> Writer<'_, W> {
    /// Names a type while naming the module (types come in arena order, so
    /// an array's element is named before the array).
    pub(super) fn type_c_name(&mut self, ty: Handle<Type>) -> String {
        match &self.module.types[ty] {
            Type::Scalar(s) => c_scalar(*s).to_string(),
            Type::Array { elem, len } => {
                let elem_name = &self.names.types[elem.index()];
                let tag = match self.module.types[*elem] {
                    Type::Scalar(s) => suffix(s).to_string(),
                    _ => elem_name
                        .strip_prefix("rk_")
                        .unwrap_or(elem_name)
                        .to_string(),
                };
                self.namer.internal(&format!("rk_arr{len}_{tag}"))
            }
            Type::Struct(s) => self.namer.call(&s.name),
            Type::Unit | Type::Slice { .. } | Type::Ref { .. } => String::new(),
        }
    }

    /// The constructor helper of a struct or the splat helper of an array.
    pub(super) fn constructor_name(&self, ty: Handle<Type>) -> String {
        let name = self.type_name(ty);
        match self.module.types[ty] {
            Type::Array { .. } => format!("rk_splat_{}", name.strip_prefix("rk_").unwrap_or(name)),
            _ => format!("rk_make_{name}"),
        }
    }

    /// Array wrappers and structs, in type-arena order (which is dependency
    /// order), each with its constructor helper.
    pub(super) fn write_types(&mut self) -> Result<(), Error> {
        for (handle, ty) in self.module.types.iter() {
            match ty {
                Type::Array { elem, len } => self.write_array(handle, *elem, *len)?,
                Type::Struct(s) => self.write_struct(handle, s)?,
                Type::Unit | Type::Scalar(_) | Type::Slice { .. } | Type::Ref { .. } => {}
            }
        }
        Ok(())
    }

    fn write_array(&mut self, handle: Handle<Type>, elem: Handle<Type>, len: u64) -> fmt::Result {
        let name = self.type_name(handle).to_string();
        let elem_name = self.type_name(elem).to_string();
        let size = type_size(self.module, handle);
        let splat = self.constructor_name(handle);
        writeln!(self.out)?;
        writeln!(self.out, "// [{}; {len}]", self.rust_type(elem))?;
        writeln!(self.out, "struct {name} {{")?;
        writeln!(self.out, "    {elem_name} e[{len}];")?;
        writeln!(self.out, "}};")?;
        writeln!(
            self.out,
            "static_assert(sizeof({name}) == {size}, \"{name}: size differs from the host layout\");"
        )?;
        if !self.names.constructed[handle.index()] {
            return Ok(());
        }
        writeln!(
            self.out,
            "static __device__ __forceinline__ {name} {splat}({elem_name} rk_v) {{"
        )?;
        writeln!(self.out, "    {name} rk_r;")?;
        writeln!(
            self.out,
            "    for (rk_u64 rk_i = 0; rk_i < {len}ull; ++rk_i) rk_r.e[rk_i] = rk_v;"
        )?;
        writeln!(self.out, "    return rk_r;")?;
        writeln!(self.out, "}}")
    }

    fn write_struct(&mut self, handle: Handle<Type>, s: &StructType) -> Result<(), Error> {
        let name = self.type_name(handle).to_string();
        let members = self.names.members[handle.index()].clone();
        writeln!(self.out)?;
        writeln!(
            self.out,
            "// Rust `{}`: host layout {} bytes, align {}.",
            s.name, s.size, s.align
        )?;
        writeln!(self.out, "struct __align__({}) {name} {{", s.align)?;
        let mut end = 0u64;
        let mut pads = 0u32;
        for (member, member_name) in s.members.iter().zip(&members) {
            let align = type_align(self.module, member.ty);
            let natural = end.next_multiple_of(align);
            if member.offset > natural {
                writeln!(self.out, "    rk_u8 rk_pad{pads}[{}];", member.offset - end)?;
                pads += 1;
            }
            let member_ty = self.type_name(member.ty).to_string();
            writeln!(self.out, "    {member_ty} {member_name};")?;
            end = member.offset + type_size(self.module, member.ty);
        }
        if s.size > end.next_multiple_of(s.align) || (s.size > 0 && end == 0) {
            writeln!(self.out, "    rk_u8 rk_pad{pads}[{}];", s.size - end)?;
        }
        writeln!(self.out, "}};")?;
        writeln!(
            self.out,
            "static_assert(sizeof({name}) == {}, \"{name}: size differs from the host layout\");",
            s.size
        )?;
        writeln!(
            self.out,
            "static_assert(alignof({name}) == {}, \"{name}: alignment differs from the host layout\");",
            s.align
        )?;
        for (member, member_name) in s.members.iter().zip(&members) {
            writeln!(
                self.out,
                "static_assert(RK_OFFSETOF({name}, {member_name}) == {}, \"{name}.{member_name}: offset differs from the host layout\");",
                member.offset
            )?;
        }
        if !self.names.constructed[handle.index()] {
            return Ok(());
        }
        let make = self.constructor_name(handle);
        write!(self.out, "static __device__ __forceinline__ {name} {make}(")?;
        for (i, member) in s.members.iter().enumerate() {
            if i > 0 {
                write!(self.out, ", ")?;
            }
            let member_ty = self.type_name(member.ty).to_string();
            write!(self.out, "{member_ty} rk_m{i}")?;
        }
        writeln!(self.out, ") {{")?;
        writeln!(self.out, "    {name} rk_r = {{}};")?;
        for (i, member_name) in members.iter().enumerate() {
            writeln!(self.out, "    rk_r.{member_name} = rk_m{i};")?;
        }
        writeln!(self.out, "    return rk_r;")?;
        writeln!(self.out, "}}")?;
        Ok(())
    }

    pub(super) fn rust_type(&self, ty: Handle<Type>) -> String {
        crate::valid::display_type(self.module, ty)
    }
}
