//! HDF5 dimension scales (the HDF5 high-level library's `H5DS` API), which
//! netCDF-4 readers (xarray with h5netcdf or netCDF4, ncdump, Panoply) turn
//! into named dimensions with coordinates.
//!
//! hdf5-metno binds only the core library; the high-level library
//! (`libhdf5_hl`) ships beside it in every HDF5 installation (Debian:
//! `libhdf5-dev`), in the directory hdf5-metno-sys already links from.

use crate::error::{Error, Result};
use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;
use std::ffi::CString;
use std::os::raw::{c_char, c_uint};
use std::path::Path;

#[link(name = "hdf5_hl")]
extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
}

fn fail(path: &Path, what: String) -> Error {
    Error::Usage(format!("{}: HDF5 error: {what}", path.display()))
}

/// Makes the 1-D dataset `scale` the dimension scale (coordinate) named
/// after it.
pub fn set_scale(scale: &hdf5::Dataset, path: &Path) -> Result<()> {
    let leaf = scale.name();
    let name = leaf.rsplit('/').next().unwrap_or("");
    let c = CString::new(name).map_err(|_| fail(path, format!("bad scale name {name:?}")))?;
    // SAFETY: `scale` is an open dataset; `c` is a NUL-terminated string
    // that outlives the call.
    let status = unsafe { H5DSset_scale(scale.id(), c.as_ptr()) };
    if status < 0 {
        return Err(fail(path, format!("cannot make {leaf} a dimension scale")));
    }
    Ok(())
}

/// Attaches dimension scale `scale` to dimension `dim` of `ds`.
pub fn attach(ds: &hdf5::Dataset, scale: &hdf5::Dataset, dim: usize, path: &Path) -> Result<()> {
    // SAFETY: both are open datasets of the same file; `dim` is checked
    // against the rank by the library (it fails, it does not read past).
    let status = unsafe { H5DSattach_scale(ds.id(), scale.id(), dim as c_uint) };
    if status < 0 {
        return Err(fail(
            path,
            format!(
                "cannot attach {} to {} (dimension {dim})",
                scale.name(),
                ds.name()
            ),
        ));
    }
    Ok(())
}
