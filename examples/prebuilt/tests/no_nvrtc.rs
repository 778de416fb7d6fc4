//! The embedded path never reaches NVRTC, observable without a GPU: this
//! test binary does everything the runtime does before the driver loads an
//! embedded image (transpile the program's kernel, build the module source,
//! match it against the manifest, pick the image for sm_90) and then checks
//! that NVRTC never ran and `libnvrtc` was never mapped into the process.
//! (Its own process: nothing else in it may locate the toolchain.)

use ringkernel::embedded::EmbeddedImage;
use ringkernel::runtime::{nvrtc_invocations, CudaSource};
use ringkernel_example_prebuilt::{accumulate, nvrtc_loaded, transform_points, KERNELS};

#[test]
fn choosing_embedded_images_never_touches_nvrtc() {
    assert!(!nvrtc_loaded(), "libnvrtc mapped before the test started");
    for kernel in [transform_points::kernel(), accumulate::kernel()] {
        let src = CudaSource::for_kernel(kernel).unwrap();
        let image = KERNELS.image_for(&src, (9, 0)).unwrap();
        if KERNELS.get(&kernel.name).unwrap().cubins.is_empty() {
            // Built without NVRTC (a machine without the toolchain).
            assert_eq!(image, None);
            continue;
        }
        assert!(
            matches!(image, Some(EmbeddedImage::Cubin(c)) if c.arch == 90),
            "{}: {image:?}",
            kernel.name
        );
        // A newer device gets the PTX; an older one nothing.
        assert!(matches!(
            KERNELS.image_for(&src, (10, 0)).unwrap(),
            Some(EmbeddedImage::Ptx(_))
        ));
        assert_eq!(KERNELS.image_for(&src, (8, 0)).unwrap(), None);
        // A different program's CUDA is refused, loudly.
        let mut other = src.clone();
        other.source.push_str("// changed\n");
        let error = KERNELS.image_for(&other, (9, 0)).unwrap_err();
        assert!(error.to_string().contains("does not match"), "{error}");
    }
    assert_eq!(nvrtc_invocations(), 0);
    assert!(!nvrtc_loaded(), "libnvrtc was mapped by the embedded path");
}
