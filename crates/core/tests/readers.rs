//! Both NetCDF readers against the fixtures of `test/fixtures/make_fixtures.py` and against what
//! netCDF4-python reads from them (`expected.json`, written by the same script).
//!
//! Python comes from `$ZARRIO_PYTHON` (default: the project venv). Without it the tests are
//! skipped loudly, or fail when `$CI` is set.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use zarrio_core::netcdf::{self, FileMeta, NcReader, ReaderKind, VarMeta};
use zarrio_core::{ArrayData, CoreError};

const DEFAULT_PYTHON: &str = "/root/.cache/zarrio/venv/bin/python";

struct Fixtures {
    dir: PathBuf,
    expected: Value,
}

impl Fixtures {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Readable fixtures, by name.
    fn readable(&self) -> Vec<(&str, &Value)> {
        self.expected["fixtures"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, value)| (name.as_str(), value))
            .collect()
    }

    fn corrupt(&self) -> Vec<&str> {
        self.expected["corrupt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }
}

/// Generate the fixtures once per test binary, in a directory of this run.
fn fixtures() -> Option<&'static Fixtures> {
    static FIXTURES: OnceLock<Option<Fixtures>> = OnceLock::new();
    FIXTURES
        .get_or_init(|| {
            let python =
                std::env::var("ZARRIO_PYTHON").unwrap_or_else(|_| DEFAULT_PYTHON.to_string());
            if !Path::new(&python).exists() {
                if std::env::var_os("CI").is_some() {
                    panic!("CI: no Python with netCDF4 at {python} (set ZARRIO_PYTHON)");
                }
                eprintln!(
                    "\n\n*** SKIPPING the NetCDF reader tests: no Python at {python}.\n\
                     *** Set ZARRIO_PYTHON to a python with netCDF4 and numpy. ***\n"
                );
                return None;
            }
            let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
            prune_old_runs(base);
            let dir = base.join(format!("readers-fixtures-{}", std::process::id()));
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/make_fixtures.py");
            let out = std::process::Command::new(&python)
                .arg(&script)
                .arg(&dir)
                .output()
                .expect("run make_fixtures.py");
            assert!(
                out.status.success(),
                "make_fixtures.py failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let expected =
                std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
            Some(Fixtures {
                dir,
                expected: serde_json::from_str(&expected).expect("expected.json is JSON"),
            })
        })
        .as_ref()
}

/// Fixture directories of earlier runs: a run can't remove its own when its last test ends.
fn prune_old_runs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < hour_ago);
        if old
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with("readers-fixtures-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Every way this build can open a path, by label.
fn readers(path: &str) -> Vec<(&'static str, Box<dyn NcReader>)> {
    let mut readers = vec![
        (
            "pure(path)",
            netcdf::open_path(path, ReaderKind::Pure).unwrap(),
        ),
        (
            "pure(bytes)",
            netcdf::open_bytes(path, std::fs::read(path).unwrap()).unwrap(),
        ),
    ];
    if cfg!(feature = "libnetcdf") {
        readers.push((
            "libnetcdf",
            netcdf::open_path(path, ReaderKind::Libnetcdf).unwrap(),
        ));
    }
    readers
}

fn all_vars(meta: &FileMeta) -> Vec<&VarMeta> {
    fn walk<'a>(g: &'a netcdf::GroupMeta, out: &mut Vec<&'a VarMeta>) {
        out.extend(g.vars.iter());
        for child in &g.groups {
            walk(child, out);
        }
    }
    let mut out = Vec::new();
    walk(&meta.root, &mut out);
    out
}

/// Values as JSON, in the representation of expected.json (non-finite floats as strings).
fn values_json(data: &ArrayData) -> Vec<Value> {
    fn float(v: f64) -> Value {
        if v.is_nan() {
            json!("NaN")
        } else if v.is_infinite() {
            json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            json!(v)
        }
    }
    match data {
        ArrayData::Int8(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Uint8(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Int16(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Uint16(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Int32(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Uint32(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Int64(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Uint64(v) => v.iter().map(|&x| json!(x)).collect(),
        ArrayData::Float32(v) => v.iter().map(|&x| float(x.into())).collect(),
        ArrayData::Float64(v) => v.iter().map(|&x| float(x)).collect(),
        ArrayData::Str(v) => v.iter().map(|s| json!(s)).collect(),
        // The fixtures hold no compound or opaque variables (tests/realdata covers them).
        ArrayData::Record { size, bytes } => {
            bytes.chunks(*size as usize).map(|r| json!(r)).collect()
        }
    }
}

/// The first place two JSON values differ, for a readable failure.
fn diff(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                diff(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{at}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            let named = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
            if x.len() != y.len() {
                let names = |l: &Vec<Value>| {
                    l.iter()
                        .map(|v| named(v).unwrap_or_else(|| v.to_string()))
                        .collect::<Vec<_>>()
                };
                return Some(format!(
                    "{at}: {} items vs {}: {:?} vs {:?}",
                    x.len(),
                    y.len(),
                    names(x),
                    names(y)
                ));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| {
                let label = named(p).unwrap_or_else(|| i.to_string());
                diff(p, q, &format!("{at}[{label}]"))
            })
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} != {b}")),
    }
}

/// Filters as a set: netCDF4-python tells which filters a variable has, not their order.
fn sort_filters(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(filters)) = map.get_mut("filters") {
                filters.sort_by_key(|f| f.to_string());
            }
            map.values_mut().for_each(sort_filters);
        }
        Value::Array(list) => list.iter_mut().for_each(sort_filters),
        _ => {}
    }
}

/// Our metadata in the shape of expected.json: without the reader name.
fn comparable(meta: &FileMeta) -> Value {
    let mut value = serde_json::to_value(meta).unwrap();
    value.as_object_mut().unwrap().remove("reader");
    sort_filters(&mut value);
    value
}

fn expected_meta(expected: &Value) -> Value {
    let mut value = json!({"format": expected["format"], "root": expected["root"]});
    sort_filters(&mut value);
    value
}

/// Drop what a reader can't see: libnetcdf shows no filter pipeline.
fn without_filters(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(filters) = map.get_mut("filters") {
                    *filters = json!([]);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(list) => list.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[test]
fn metadata_matches_netcdf4_python() {
    let Some(fx) = fixtures() else { return };
    let mut failures = Vec::new();
    for (name, expected) in fx.readable() {
        let want = expected_meta(expected);
        for (label, reader) in readers(&fx.path(name)) {
            let mut got = comparable(reader.meta());
            let want = if label == "libnetcdf" {
                got = without_filters(got);
                without_filters(want.clone())
            } else {
                want.clone()
            };
            if let Some(d) = diff(&got, &want, name) {
                failures.push(format!("{label}: {d}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "metadata differs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn reader_names_and_formats() {
    let Some(fx) = fixtures() else { return };
    let formats: Vec<(&str, &str)> = vec![
        ("classic.nc", "classic"),
        ("offset64.nc", "64bit_offset"),
        ("cdf5.nc", "cdf5"),
        ("nc4_zlib.nc", "netcdf4"),
        ("nc4_classic.nc", "netcdf4_classic"),
    ];
    for (name, format) in formats {
        for (label, reader) in readers(&fx.path(name)) {
            assert_eq!(reader.meta().format, format, "{label} {name}");
            let want = if label == "libnetcdf" {
                "libnetcdf"
            } else {
                "pure"
            };
            assert_eq!(reader.meta().reader, want, "{label} {name}");
        }
    }
    // Auto prefers the pure reader.
    let auto = netcdf::open_path(&fx.path("classic.nc"), ReaderKind::Auto).unwrap();
    assert_eq!(auto.meta().reader, "pure");
}

#[test]
fn values_match_netcdf4_python() {
    let Some(fx) = fixtures() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, expected) in fx.readable() {
        for (label, reader) in readers(&fx.path(name)) {
            for var in all_vars(reader.meta()) {
                let want = &expected["data"][&var.path];
                let zeros = vec![0; var.shape.len()];
                let data = match reader.read(&var.path, &zeros, &var.shape) {
                    Ok(data) => data,
                    Err(e) => {
                        failures.push(format!("{label} {name} {}: {e}", var.path));
                        continue;
                    }
                };
                assert_eq!(data.dtype(), var.dtype, "{label} {name} {}", var.path);
                assert_eq!(
                    want["dtype"],
                    json!(var.dtype),
                    "{label} {name} {}",
                    var.path
                );
                // A second read sees the same values: nothing a read leaves behind changes the next.
                match reader.read(&var.path, &zeros, &var.shape) {
                    Ok(again) if again == data || values_json(&again) == values_json(&data) => {}
                    Ok(_) => failures.push(format!(
                        "{label} {name} {}: a second read differs",
                        var.path
                    )),
                    Err(e) => {
                        failures.push(format!("{label} {name} {} second read: {e}", var.path))
                    }
                }
                let got = Value::Array(values_json(&data));
                if let Some(d) = diff(
                    &got,
                    &want["values"],
                    &format!("{label} {name} {}", var.path),
                ) {
                    failures.push(d);
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "values differ:\n{}",
        failures.join("\n")
    );
    assert!(checked > 100, "only {checked} variables checked");
}

/// The hyperslab of `count` at `start` cut out of a whole C-ordered array, test-side.
fn cut(whole: &[Value], shape: &[u64], start: &[u64], count: &[u64]) -> Vec<Value> {
    let total: u64 = count.iter().product();
    (0..total)
        .map(|mut flat| {
            let mut offset = 0;
            let mut stride = 1;
            for d in (0..shape.len()).rev() {
                let i = flat % count[d];
                flat /= count[d];
                offset += (start[d] + i) * stride;
                stride *= shape[d];
            }
            whole[offset as usize].clone()
        })
        .collect()
}

#[test]
fn hyperslabs_agree_with_whole_reads() {
    let Some(fx) = fixtures() else { return };
    let mut slabs = 0;
    for (name, _) in fx.readable() {
        for (label, reader) in readers(&fx.path(name)) {
            for var in all_vars(reader.meta()) {
                let shape = &var.shape;
                if shape.is_empty() || shape.contains(&0) {
                    continue;
                }
                let what = format!("{label} {name} {}", var.path);
                let whole = values_json(
                    &reader
                        .read(&var.path, &vec![0; shape.len()], shape)
                        .unwrap(),
                );

                // Slabs of 2 along the first dimension; odd lengths end with a partial slab.
                let mut joined = Vec::new();
                let mut first = 0;
                while first < shape[0] {
                    let mut start = vec![0; shape.len()];
                    let mut count = shape.clone();
                    start[0] = first;
                    count[0] = 2.min(shape[0] - first);
                    joined.extend(values_json(
                        &reader.read(&var.path, &start, &count).unwrap(),
                    ));
                    first += count[0];
                    slabs += 1;
                }
                assert!(joined == whole, "{what}: slabs differ from the whole read");

                // An interior box that crosses chunk edges.
                let start: Vec<u64> = shape.iter().map(|&n| n / 3).collect();
                let count: Vec<u64> = shape
                    .iter()
                    .zip(&start)
                    .map(|(&n, &s)| (n / 2).max(1).min(n - s))
                    .collect();
                let boxed = values_json(&reader.read(&var.path, &start, &count).unwrap());
                assert!(
                    boxed == cut(&whole, shape, &start, &count),
                    "{what}: box {start:?}+{count:?}"
                );

                // The last element alone.
                let start: Vec<u64> = shape.iter().map(|&n| n - 1).collect();
                let one = values_json(
                    &reader
                        .read(&var.path, &start, &vec![1; shape.len()])
                        .unwrap(),
                );
                assert_eq!(
                    one,
                    vec![whole.last().unwrap().clone()],
                    "{what}: last element"
                );

                // An empty hyperslab is empty, not an error.
                let mut count = shape.clone();
                count[0] = 0;
                assert!(
                    reader
                        .read(&var.path, &vec![0; shape.len()], &count)
                        .unwrap()
                        .is_empty(),
                    "{what}"
                );
            }
        }
    }
    assert!(slabs > 100);
}

#[test]
fn four_d_hyperslab() {
    let Some(fx) = fixtures() else { return };
    let expected = &fx.expected["fixtures"]["four_d.nc"]["data"]["/temperature"];
    let whole = expected["values"].as_array().unwrap();
    let shape = [3, 4, 9, 11];
    // Chunks are (1, 3, 5, 7): this box touches 2 x 2 x 2 x 2 of them, partial edges included.
    let (start, count) = ([1, 2, 3, 5], [2, 2, 6, 6]);
    for (label, reader) in readers(&fx.path("four_d.nc")) {
        let got = values_json(&reader.read("/temperature", &start, &count).unwrap());
        assert_eq!(got.len(), 2 * 2 * 6 * 6);
        assert!(got == cut(whole, &shape, &start, &count), "{label}");
    }
}

#[test]
fn scalars_and_text() {
    let Some(fx) = fixtures() else { return };
    let cases: Vec<(&str, &str, ArrayData)> = vec![
        ("classic.nc", "/crs", ArrayData::Int32(vec![4326])),
        (
            "nc4_zlib.nc",
            "/reference_height",
            ArrayData::Float64(vec![2.0]),
        ),
        ("attrs.nc", "/scalar_value", ArrayData::Float64(vec![42.5])),
        ("strings.nc", "/flag_char", ArrayData::Str(vec!["Y".into()])),
        (
            "strings.nc",
            "/title_chars",
            ArrayData::Str(vec!["Observations 2020".into()]),
        ),
        (
            "strings.nc",
            "/comment",
            ArrayData::Str(vec!["a scalar string – with a dash".into()]),
        ),
    ];
    for (file, var, want) in cases {
        for (label, reader) in readers(&fx.path(file)) {
            assert_eq!(
                reader.read(var, &[], &[]).unwrap(),
                want,
                "{label} {file} {var}"
            );
        }
    }
    for (label, reader) in readers(&fx.path("strings.nc")) {
        let city = reader.read("/city", &[1], &[3]).unwrap();
        assert_eq!(
            city,
            ArrayData::Str(vec!["São Paulo".into(), "Kraków".into(), "東京".into()]),
            "{label}"
        );
        let latin = reader.read("/label_latin1", &[0], &[2]).unwrap();
        assert_eq!(
            latin,
            ArrayData::Str(vec!["Café".into(), "Façade".into()]),
            "{label}"
        );
        let legacy = reader.read("/legacy_bytes", &[0], &[2]).unwrap();
        assert_eq!(
            legacy,
            ArrayData::Str(vec!["Ærø".into(), "Mönchengladbach".into()]),
            "{label}"
        );
        let grid = reader.read("/grid_label", &[1, 1], &[1, 2]).unwrap();
        assert_eq!(grid, ArrayData::Str(vec!["".into(), "ƒ".into()]), "{label}");
        let meta = reader.meta().var("/city").unwrap();
        assert_eq!(meta.char_dim.as_deref(), Some("name_strlen"));
        assert!(
            meta.attrs.iter().all(|a| a.name != "_Encoding"),
            "{label}: _Encoding applied, so dropped"
        );
    }
    for (label, reader) in readers(&fx.path("classic.nc")) {
        let labels = reader.read("/time_label", &[3], &[2]).unwrap();
        assert_eq!(
            labels,
            ArrayData::Str(vec!["2000-01-04".into(), "2000-01-05".into()]),
            "{label}"
        );
    }
}

#[test]
fn unsigned_view() {
    let Some(fx) = fixtures() else { return };
    for (label, reader) in readers(&fx.path("unsigned.nc")) {
        let meta = reader.meta().var("/cloud_mask").unwrap();
        assert_eq!(meta.dtype, zarrio_core::DType::Uint8, "{label}");
        assert_eq!(meta.nc_type, "byte");
        assert!(meta.attrs.iter().all(|a| a.name != "_Unsigned"));
        let fill = meta.attrs.iter().find(|a| a.name == "_FillValue").unwrap();
        assert_eq!(fill.value, netcdf::AttrValue::Uint8(vec![255]), "{label}");
        let last = reader.read("/cloud_mask", &[3, 4], &[1, 1]).unwrap();
        assert_eq!(last, ArrayData::Uint8(vec![255]), "{label}");
    }
}

#[test]
fn corrupt_files_are_read_errors() {
    let Some(fx) = fixtures() else { return };
    let mut kinds: Vec<(&str, ReaderKind)> = vec![("pure", ReaderKind::Pure)];
    if cfg!(feature = "libnetcdf") {
        kinds.push(("libnetcdf", ReaderKind::Libnetcdf));
    }
    for name in fx.corrupt() {
        let path = fx.path(name);
        let mut attempts: Vec<(String, zarrio_core::Result<Box<dyn NcReader>>)> = kinds
            .iter()
            .map(|(label, kind)| (label.to_string(), netcdf::open_path(&path, *kind)))
            .collect();
        attempts.push((
            "pure(bytes)".into(),
            netcdf::open_bytes(&path, std::fs::read(&path).unwrap()),
        ));
        for (label, opened) in attempts {
            let err = match opened {
                Err(e) => e,
                // Truncated data with an intact header opens; reading what is gone must fail.
                Ok(reader) => all_vars(reader.meta())
                    .iter()
                    .find_map(|v| {
                        reader
                            .read(&v.path, &vec![0; v.shape.len()], &v.shape)
                            .err()
                    })
                    .unwrap_or_else(|| panic!("{label} {name}: opened and read without an error")),
            };
            assert!(matches!(err, CoreError::Read(_)), "{label} {name}: {err:?}");
            let message = err.to_string();
            assert!(
                message.len() > 30,
                "{label} {name}: unhelpful message {message:?}"
            );
            if label != "pure(bytes)" && !message.contains('/') {
                panic!("{label} {name}: the message should name the file or variable: {message}");
            }
        }
    }
    let missing = fx.path("no_such_file.nc");
    for (label, kind) in kinds {
        match netcdf::open_path(&missing, kind) {
            Err(CoreError::Read(m)) => assert!(m.contains("no_such_file.nc"), "{label}: {m}"),
            other => panic!("{label}: {:?}", other.err()),
        }
    }
}

#[test]
fn bad_requests_are_rejected() {
    let Some(fx) = fixtures() else { return };
    for (label, reader) in readers(&fx.path("nc4_zlib.nc")) {
        let bad = [
            (vec![0, 0, 0], vec![8, 25, 36]),
            (vec![0, 24, 0], vec![1, 2, 36]),
            (vec![0, 0], vec![1, 1]),
            (vec![u64::MAX, 0, 0], vec![2, 1, 1]),
        ];
        for (start, count) in bad {
            let err = reader.read("/temperature", &start, &count).unwrap_err();
            assert!(
                matches!(err, CoreError::Invalid(_)),
                "{label} {start:?} {count:?}: {err:?}"
            );
        }
        let err = reader.read("/nope", &[], &[]).unwrap_err();
        assert!(matches!(err, CoreError::NotFound(_)), "{label}: {err:?}");
    }
    #[cfg(not(feature = "libnetcdf"))]
    assert!(matches!(
        netcdf::open_path(&fx.path("classic.nc"), ReaderKind::Libnetcdf).err(),
        Some(CoreError::Unsupported(_))
    ));
}

#[test]
fn readers_are_shared_across_threads() {
    let Some(fx) = fixtures() else { return };
    for (label, reader) in readers(&fx.path("nc4_zlib.nc")) {
        let whole = reader
            .read("/temperature", &[0, 0, 0], &[7, 25, 36])
            .unwrap();
        let reader: &dyn NcReader = reader.as_ref();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..7u64)
                .map(|t| {
                    s.spawn(move || {
                        reader
                            .read("/temperature", &[t, 0, 0], &[1, 25, 36])
                            .unwrap()
                    })
                })
                .collect();
            let mut joined = Vec::new();
            for h in handles {
                joined.extend(values_json(&h.join().unwrap()));
            }
            assert!(joined == values_json(&whole), "{label}");
        });
    }
}

/// HDF5 shares its metadata cache between handles to one file: with two libnetcdf handles, the
/// first one's close left the other's string fill values pointing at freed memory (SIGSEGV when
/// tests opened the same fixture on parallel threads). Readers of one file share one handle,
/// whatever path names it.
#[test]
fn one_file_opened_twice_through_libnetcdf() {
    let Some(fx) = fixtures() else { return };
    if !cfg!(feature = "libnetcdf") {
        return;
    }
    let path = fx.path("strings.nc");
    // The same file under a second name: a hard link beside it.
    let linked = fx
        .dir
        .join(format!("strings-link-{}.nc", std::process::id()));
    let _ = std::fs::remove_file(&linked);
    std::fs::hard_link(&path, &linked).unwrap();
    let expected = &fx.expected["fixtures"]["strings.nc"];
    let check = |reader: &dyn NcReader, label: &str| {
        for var in all_vars(reader.meta()) {
            let zeros = vec![0; var.shape.len()];
            let data = reader.read(&var.path, &zeros, &var.shape).unwrap();
            let got = Value::Array(values_json(&data));
            let want = &expected["data"][&var.path]["values"];
            assert!(diff(&got, want, label).is_none(), "{label} {}", var.path);
        }
    };
    for second in [path.clone(), linked.to_string_lossy().into_owned()] {
        let first = netcdf::open_path(&path, ReaderKind::Libnetcdf).unwrap();
        let other = netcdf::open_path(&second, ReaderKind::Libnetcdf).unwrap();
        drop(first);
        check(other.as_ref(), &second);
    }
    // Opened and closed on several threads at once.
    std::thread::scope(|s| {
        for t in 0..4 {
            let (path, linked, check) = (&path, &linked, &check);
            s.spawn(move || {
                for i in 0..20 {
                    let p = if (t + i) % 2 == 0 {
                        path.clone()
                    } else {
                        linked.to_string_lossy().into_owned()
                    };
                    let reader = netcdf::open_path(&p, ReaderKind::Libnetcdf).unwrap();
                    check(reader.as_ref(), &p);
                }
            });
        }
    });
    std::fs::remove_file(&linked).unwrap();
}
