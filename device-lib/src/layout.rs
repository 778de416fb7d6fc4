//! Host layouts of the user types shared with the device, as rustc computes
//! them.
//!
//! `#[derive(GpuType)]` and `#[derive(RingMessage)]` implement the traits
//! below for a `#[repr(C)]` plain-data struct. The implementation is a
//! constant [`TypeLayout`] built from `size_of`, `align_of` and
//! `core::mem::offset_of!`, so the numbers are rustc's own, not a
//! re-computation. The transpiler turns these layouts into IR struct types
//! (cross-checking them against its own `repr(C)` computation) and the CUDA
//! back end pins the generated structs to them with `static_assert`s; the
//! runtime copies values of these types to and from the device byte for
//! byte. So a layout can never disagree silently between the three.
//!
//! Field types are described through [`DeviceRepr`], implemented here for
//! the scalars and fixed arrays and by the derives for structs, so a nested
//! struct's layout is reachable from its parent's ([`FieldType::Struct`])
//! and a kernel collects every layout it needs from the types in its
//! signature alone.

/// A scalar type the device supports in shared structs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Isize,
    U8,
    U16,
    U32,
    U64,
    Usize,
    F32,
    F64,
}

impl ScalarKind {
    /// The Rust spelling (`u32`, `f64`, …).
    pub const fn rust_name(self) -> &'static str {
        match self {
            ScalarKind::Bool => "bool",
            ScalarKind::I8 => "i8",
            ScalarKind::I16 => "i16",
            ScalarKind::I32 => "i32",
            ScalarKind::I64 => "i64",
            ScalarKind::Isize => "isize",
            ScalarKind::U8 => "u8",
            ScalarKind::U16 => "u16",
            ScalarKind::U32 => "u32",
            ScalarKind::U64 => "u64",
            ScalarKind::Usize => "usize",
            ScalarKind::F32 => "f32",
            ScalarKind::F64 => "f64",
        }
    }
}

/// The type of a field of a shared struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Scalar(ScalarKind),
    /// `[elem; len]`.
    Array {
        elem: &'static FieldType,
        len: usize,
    },
    /// A nested `GpuType` struct.
    Struct(&'static TypeLayout),
}

/// One field of a [`TypeLayout`], in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLayout {
    pub name: &'static str,
    /// `offset_of!(Struct, field)`.
    pub offset: usize,
    /// `size_of::<FieldType>()`.
    pub size: usize,
    pub ty: FieldType,
}

/// The layout of a `#[repr(C)]` struct as rustc computed it, and where the
/// struct is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeLayout {
    /// The struct's name, as kernels spell it.
    pub name: &'static str,
    /// `module_path!()` and the name: tells apart two structs of one name.
    pub path: &'static str,
    /// The file the struct is declared in (`file!()`).
    pub file: &'static str,
    /// 1-based line and 0-based column of the struct's name in `file`.
    pub line: u32,
    pub column: u32,
    /// `size_of::<Struct>()`.
    pub size: usize,
    /// `align_of::<Struct>()`.
    pub align: usize,
    pub fields: &'static [FieldLayout],
}

impl TypeLayout {
    /// This layout followed by every struct layout it contains, nested ones
    /// first (the order a C compiler needs them in), without repeats.
    pub fn with_nested(&'static self) -> Vec<&'static TypeLayout> {
        let mut out = Vec::new();
        push_with_nested(self, &mut out);
        out
    }
}

fn push_with_nested(layout: &'static TypeLayout, out: &mut Vec<&'static TypeLayout>) {
    if out
        .iter()
        .any(|l| core::ptr::eq(*l, layout) || *l == layout)
    {
        return;
    }
    for field in layout.fields {
        let mut ty = &field.ty;
        while let FieldType::Array { elem, .. } = ty {
            ty = elem;
        }
        if let FieldType::Struct(nested) = ty {
            push_with_nested(nested, out);
        }
    }
    out.push(layout);
}

/// A type that has a device representation: the scalars, fixed arrays of
/// such types, and `GpuType` structs.
///
/// # Safety
///
/// `FIELD_TYPE` must describe `Self` exactly: same size, alignment and,
/// for structs, the layout of [`GpuType::LAYOUT`]. `Self` must be plain
/// data: no pointers, no references, no drop glue, and every byte pattern
/// the device writes for this type (each scalar holding a valid value of its
/// type, `bool` as 0 or 1) must be a valid `Self`, because the runtime
/// copies values between host and device memory byte for byte.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be shared with the device",
    label = "not plain data the device can hold",
    note = "use integers, `f32`, `f64`, `bool`, fixed arrays `[T; N]`, or a `#[repr(C)]` struct that derives `GpuType`"
)]
pub unsafe trait DeviceRepr: Copy + 'static {
    const FIELD_TYPE: FieldType;
}

/// A `#[repr(C)]` plain-data struct shared with the device: a handler's
/// state, a field of a message, an element of a kernel's buffer. Implement
/// it with `#[derive(GpuType)]`, which checks the struct and computes
/// [`GpuType::LAYOUT`] with rustc's own `size_of`/`offset_of!`.
///
/// # Safety
///
/// As for [`DeviceRepr`]; and `LAYOUT` lists every field of `Self` with
/// its exact offset, size and type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `GpuType`",
    label = "the device needs the layout of this type",
    note = "add `#[derive(GpuType)]` and `#[repr(C)]` to the struct (or `#[derive(RingMessage)]` for a message)"
)]
pub unsafe trait GpuType: DeviceRepr {
    const LAYOUT: &'static TypeLayout;
}

/// A message an actor receives or replies with. Implement it with
/// `#[derive(RingMessage)]`, which also implements [`GpuType`].
///
/// # Safety
///
/// As for [`GpuType`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `RingMessage`",
    label = "actors receive and reply with `RingMessage` types",
    note = "add `#[derive(RingMessage)]` and `#[repr(C)]` to the struct"
)]
pub unsafe trait RingMessage: GpuType {
    /// The envelope's `type_id` for this message: by default
    /// [`type_id_of`] the type's path (`module_path!()::Name`); override it
    /// with `#[ring_message(type_id = N)]`.
    const TYPE_ID: u32;
}

/// The default [`RingMessage::TYPE_ID`]: the 32-bit FNV-1a hash of `path`.
/// Stable across builds and compiler versions (it depends on the path
/// only); moving or renaming the type changes it.
pub const fn type_id_of(path: &str) -> u32 {
    let bytes = path.as_bytes();
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// An all-zero value of `T`: every field 0, `0.0` or `false` (what a
/// freshly allocated device state holds).
pub fn zeroed<T: GpuType>() -> T {
    // SAFETY: a GpuType is plain data whose fields are scalars, arrays and
    // GpuTypes, for all of which all-zero bytes are a valid value.
    unsafe { core::mem::MaybeUninit::<T>::zeroed().assume_init() }
}

/// The derives' padding check: `PaddingCheck<'_, true>` implements
/// [`PaddingFree`], `PaddingCheck<'_, false>` does not. The derive bounds
/// the runtime's byte-copy trait (`DeviceCopy`) on
/// `for<'a> PaddingCheck<'a, { size_of::<S>() == sum of field sizes }>:
/// PaddingFree`; the higher-ranked lifetime keeps the bound from being
/// "trivially false" (an error), so a struct with padding simply does not
/// get the impl, and using it as a buffer element says why.
#[doc(hidden)]
#[derive(Debug)]
pub struct PaddingCheck<'a, const PADDING_FREE: bool>(core::marker::PhantomData<&'a ()>);

/// See [`PaddingCheck`].
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "this struct has padding bytes, so it cannot be copied to and from device buffers byte for byte",
    label = "the struct's size is larger than the sum of its fields",
    note = "add explicit padding fields (e.g. `pub _pad: [u8; 4]`) or reorder the fields largest first, so every byte is a field"
)]
pub trait PaddingFree {}

impl PaddingFree for PaddingCheck<'_, true> {}

macro_rules! scalar_repr {
    ($($t:ty => $kind:ident),* $(,)?) => {$(
        // SAFETY: a scalar is plain data of exactly its own layout; the
        // device writes only valid values of it (`bool` as 0 or 1).
        unsafe impl DeviceRepr for $t {
            const FIELD_TYPE: FieldType = FieldType::Scalar(ScalarKind::$kind);
        }
    )*};
}

scalar_repr! {
    bool => Bool,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, isize => Isize,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, usize => Usize,
    f32 => F32, f64 => F64,
}

// SAFETY: an array of plain data is plain data, laid out as `len` elements
// back to back with the element's alignment.
unsafe impl<T: DeviceRepr, const N: usize> DeviceRepr for [T; N] {
    const FIELD_TYPE: FieldType = FieldType::Array {
        elem: &T::FIELD_TYPE,
        len: N,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Inner {
        a: u8,
        b: f64,
    }

    // What `#[derive(GpuType)]` writes (the macro's own tests compare its
    // output with this shape).
    unsafe impl DeviceRepr for Inner {
        const FIELD_TYPE: FieldType = FieldType::Struct(<Self as GpuType>::LAYOUT);
    }
    unsafe impl GpuType for Inner {
        const LAYOUT: &'static TypeLayout = &TypeLayout {
            name: "Inner",
            path: "layout::tests::Inner",
            file: file!(),
            line: 0,
            column: 0,
            size: core::mem::size_of::<Inner>(),
            align: core::mem::align_of::<Inner>(),
            fields: &[
                FieldLayout {
                    name: "a",
                    offset: core::mem::offset_of!(Inner, a),
                    size: core::mem::size_of::<u8>(),
                    ty: <u8 as DeviceRepr>::FIELD_TYPE,
                },
                FieldLayout {
                    name: "b",
                    offset: core::mem::offset_of!(Inner, b),
                    size: core::mem::size_of::<f64>(),
                    ty: <f64 as DeviceRepr>::FIELD_TYPE,
                },
            ],
        };
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Outer {
        inners: [Inner; 2],
        n: u16,
    }

    unsafe impl DeviceRepr for Outer {
        const FIELD_TYPE: FieldType = FieldType::Struct(<Self as GpuType>::LAYOUT);
    }
    unsafe impl GpuType for Outer {
        const LAYOUT: &'static TypeLayout = &TypeLayout {
            name: "Outer",
            path: "layout::tests::Outer",
            file: file!(),
            line: 0,
            column: 0,
            size: core::mem::size_of::<Outer>(),
            align: core::mem::align_of::<Outer>(),
            fields: &[
                FieldLayout {
                    name: "inners",
                    offset: core::mem::offset_of!(Outer, inners),
                    size: core::mem::size_of::<[Inner; 2]>(),
                    ty: <[Inner; 2] as DeviceRepr>::FIELD_TYPE,
                },
                FieldLayout {
                    name: "n",
                    offset: core::mem::offset_of!(Outer, n),
                    size: core::mem::size_of::<u16>(),
                    ty: <u16 as DeviceRepr>::FIELD_TYPE,
                },
            ],
        };
    }

    #[test]
    fn layouts_are_rustcs_and_nest() {
        let outer = <Outer as GpuType>::LAYOUT;
        assert_eq!((outer.size, outer.align), (40, 8));
        assert_eq!(outer.fields[1].offset, 32);
        let FieldType::Array { elem, len: 2 } = outer.fields[0].ty else {
            panic!("{:?}", outer.fields[0].ty)
        };
        assert_eq!(*elem, FieldType::Struct(<Inner as GpuType>::LAYOUT));
        let all: Vec<&str> = outer.with_nested().iter().map(|l| l.name).collect();
        assert_eq!(all, ["Inner", "Outer"]);
    }

    #[test]
    fn type_ids_are_fnv1a() {
        // Reference values of 32-bit FNV-1a.
        assert_eq!(type_id_of(""), 0x811c_9dc5);
        assert_eq!(type_id_of("a"), 0xe40c_292c);
        assert_eq!(type_id_of("foobar"), 0xbf9c_f968);
        const ID: u32 = type_id_of("app::Request");
        assert_ne!(ID, type_id_of("app::Response"));
    }
}
