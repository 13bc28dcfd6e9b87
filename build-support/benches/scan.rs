//! Scan speed on a generated site of 10,000 templates of about 2 KiB: a cold scan, a re-scan with
//! nothing changed, and the floor (reading and blake3-hashing the same files, on the same thread
//! pool), side by side in one run, with the ratios. The cold figures (the floor, `scan()`, a cold
//! `Builder::build()`, the peer, minijinja reading and compiling every template into
//! `Environment`s on the same pool, and the floor of the build's writing, a cold build's outputs
//! written from memory to fresh files) are taken in turn, round after round, and their medians
//! compared. With the files in the page cache (they are after the site is generated, as after a
//! checkout), and, where the process may drop the page cache (root), also from disk: the floor
//! and the cold build each after
//! `echo 3 > /proc/sys/vm/drop_caches` (7 samples each, about 15 s; not in the smoke run).
//!
//! `cargo bench -p shipwright-build --bench scan` (add `-- --smoke` for a quick run on 500
//! templates; `-- --profile scan|build|peer` times only that one, for a profiler). Merges its figures into `target/shipwright-bench/summary.json`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use shipwright_build::Builder;
use shipwright_build::scan::{Roots, scan};
use shipwright_fixtures::{figures as json, generate_site, merge_summary};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// Writes the page cache, dentries and inodes back and drops them; `false` if not allowed.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn drop_page_cache() -> bool {
    std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--generate") {
        // Only write the site, for profiling: `-- --generate DIR`.
        let files = generate_site(Path::new(&args[at + 1]), 10_000 - 264);
        println!("generated {} templates", files.len());
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    let (pages, runs) = if smoke { (500, 3) } else { (10_000 - 264, 15) };
    let dir = tempfile::tempdir().unwrap();
    let files = generate_site(&dir.path().join("templates"), pages);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "site: {} templates, {:.1} MiB, {} threads",
        files.len(),
        bytes as f64 / 1048576.0,
        rayon::current_num_threads()
    );

    let read_and_hash = || {
        files
            .par_iter()
            .map(|f| blake3::hash(&std::fs::read(f).unwrap()).as_bytes()[0] as u64)
            .sum::<u64>()
    };
    let roots = Roots::new(vec![(dir.path().join("templates"), "templates".into())]);
    let mut n = 0;
    let mut cold_build = || {
        n += 1;
        let out = dir.path().join(format!("out-cold-{n}"));
        let built = Builder::new()
            .manifest_dir(dir.path())
            .out_dir(&out)
            .cargo_directives(false)
            .build()
            .unwrap();
        assert_eq!(built.templates, files.len());
        built.templates
    };
    // The floor of the build's writing: a cold build's outputs (BuildCache, registry, records,
    // index), as bytes in memory, written to fresh files of a fresh directory, in parallel.
    let sample = dir.path().join("out-sample");
    Builder::new()
        .manifest_dir(dir.path())
        .out_dir(&sample)
        .cargo_directives(false)
        .build()
        .unwrap();
    let outputs: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(sample.join("shipwright"))
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name(), std::fs::read(entry.path()).unwrap())
        })
        .collect();
    let output_bytes: usize = outputs.iter().map(|(_, bytes)| bytes.len()).sum();
    let mut w = 0;
    let mut write_floor = || {
        w += 1;
        let out = dir.path().join(format!("out-writes-{w}"));
        std::fs::create_dir_all(&out).unwrap();
        outputs
            .par_iter()
            .map(|(name, bytes)| std::fs::write(out.join(name), bytes).unwrap())
            .count()
    };
    // The peer: the same files read and compiled by minijinja (`add_template_owned` parses and
    // compiles at once), on the same rayon pool, one `Environment` per shard rayon splits off.
    let prefix = dir.path().join("templates");
    let minijinja = || {
        files
            .par_iter()
            .fold(minijinja::Environment::new, |mut env, f| {
                let name = f.strip_prefix(&prefix).unwrap().to_str().unwrap();
                let source = std::fs::read_to_string(f).unwrap();
                env.add_template_owned(name.replace('\\', "/"), source)
                    .unwrap();
                env
            })
            .map(|env| env.templates().count())
            .sum::<usize>()
    };
    assert_eq!(minijinja(), files.len());
    if let Some(at) = args.iter().position(|a| a == "--profile") {
        // Only one of the cold figures, 30 times, for a profiler: `-- --profile scan|build|peer`.
        let mut run: Box<dyn FnMut() -> usize> = match args[at + 1].as_str() {
            "scan" => Box::new(|| scan(&roots, None).unwrap().cache.templates.len()),
            "build" => Box::new(cold_build),
            _ => Box::new(minijinja),
        };
        println!("{} ms", ms(time(30, &mut run)));
        return;
    }
    // The cold figures, interleaved: floor, scan(), build, minijinja, the write floor in turn,
    // `runs` rounds.
    let mut cold_samples: [Vec<Duration>; 5] = Default::default();
    for _ in 0..runs {
        for (samples, run) in cold_samples.iter_mut().zip([
            &mut (|| read_and_hash() as usize) as &mut dyn FnMut() -> usize,
            &mut || scan(&roots, None).unwrap().cache.templates.len(),
            &mut cold_build,
            &mut || minijinja(),
            &mut write_floor,
        ]) {
            let start = Instant::now();
            black_box(run());
            samples.push(start.elapsed());
        }
    }
    let [floor, scan_only, cold, peer, writes] = cold_samples.map(median);
    // The floor of a re-scan: stat every file, in parallel (git's index check does the same).
    let stat_floor = time(runs, || {
        files
            .par_iter()
            .map(|f| std::fs::metadata(f).unwrap().len())
            .sum::<u64>()
    });
    let floor_sequential = time(runs, || {
        files
            .iter()
            .map(|f| blake3::hash(&std::fs::read(f).unwrap()).as_bytes()[0] as u64)
            .sum::<u64>()
    });
    let warm_out = dir.path().join("out-warm");
    let builder = || {
        Builder::new()
            .manifest_dir(dir.path())
            .out_dir(&warm_out)
            .cargo_directives(false)
    };
    builder().build().unwrap();
    std::thread::sleep(Duration::from_millis(50)); // out of the index's racy window
    let rescan = time(runs, || {
        let built = builder().build().unwrap();
        assert_eq!(built.analysed, 0, "nothing changed: nothing read");
        built
    });
    // One file edited: the stat check sends just that file to the lexer.
    let edited = &files[files.len() / 2];
    let original = std::fs::read_to_string(edited).unwrap();
    let mut flip = false;
    let one_edit = time(runs, || {
        flip = !flip;
        std::fs::write(
            edited,
            if flip {
                original.replace("Page", "Side")
            } else {
                original.clone()
            },
        )
        .unwrap();
        builder().build().unwrap()
    });

    // From disk: the same floor and cold build, each after dropping the page cache.
    let from_disk = (!smoke && drop_page_cache()).then(|| {
        let (mut floor, mut cold) = (Vec::new(), Vec::new());
        for n in 0..7 {
            drop_page_cache();
            let start = Instant::now();
            black_box(read_and_hash());
            floor.push(start.elapsed());
            drop_page_cache();
            let out = dir.path().join(format!("out-disk-{n}"));
            let start = Instant::now();
            black_box(
                Builder::new()
                    .manifest_dir(dir.path())
                    .out_dir(&out)
                    .cargo_directives(false)
                    .build()
                    .unwrap(),
            );
            cold.push(start.elapsed());
        }
        (median(floor), median(cold))
    });

    println!("floor (read + blake3, parallel)   {:>8.2} ms", ms(floor));
    println!(
        "floor (read + blake3, sequential) {:>8.2} ms",
        ms(floor_sequential)
    );
    println!(
        "cold scan (scan(): walk, read, hash, lex, graph) {:>8.2} ms   {:.2}x the floor (target <= 2.0x)",
        ms(scan_only),
        ms(scan_only) / ms(floor)
    );
    println!(
        "cold build (Builder::build: + BuildCache, registry, index written) {:>8.2} ms   {:.2}x the floor (target <= 2.5x)",
        ms(cold),
        ms(cold) / ms(floor)
    );
    println!(
        "floor (the cold build's outputs, {:.1} MiB, written in parallel) {:>8.2} ms   {:.2}x the read floor; the cold build's time beyond scan(): {:.2}x",
        output_bytes as f64 / 1048576.0,
        ms(writes),
        ms(writes) / ms(floor),
        (ms(cold) - ms(scan_only)) / ms(floor)
    );
    println!(
        "peer: minijinja, read + add_template_owned  {:>8.2} ms   {:.2}x the floor; scan() / minijinja = {:.2} (target <= 0.5)",
        ms(peer),
        ms(peer) / ms(floor),
        ms(scan_only) / ms(peer)
    );
    println!(
        "floor (stat every file, parallel) {:>8.2} ms",
        ms(stat_floor)
    );
    println!(
        "re-scan, nothing changed          {:>8.2} ms   {:.2}x the stat floor (target <= 15 ms)",
        ms(rescan),
        ms(rescan) / ms(stat_floor)
    );
    println!("re-scan, one file edited          {:>8.2} ms", ms(one_edit));
    match from_disk {
        Some((floor, cold)) => {
            println!(
                "from disk (page cache dropped): floor {:>8.2} ms",
                ms(floor)
            );
            println!(
                "from disk (page cache dropped): cold build {:>8.2} ms   {:.2}x that floor",
                ms(cold),
                ms(cold) / ms(floor)
            );
        }
        None => println!(
            "from disk: not measured (the smoke run, or not allowed to drop the page cache)"
        ),
    }

    let mut metrics = serde_json::Map::new();
    metrics.insert(
        "scan_10k_cold".into(),
        json(&[
            ("shipwright", ms(cold)),
            ("shipwright_scan_only", ms(scan_only)),
            ("floor_read_blake3", ms(floor)),
            ("floor_read_blake3_sequential", ms(floor_sequential)),
            ("floor_write_outputs", ms(writes)),
            ("minijinja_add_template", ms(peer)),
        ]),
    );
    metrics.insert(
        "scan_10k_rescan_unchanged".into(),
        json(&[("shipwright", ms(rescan)), ("floor_stat", ms(stat_floor))]),
    );
    metrics.insert(
        "scan_10k_rescan_one_edit".into(),
        json(&[("shipwright", ms(one_edit))]),
    );
    if let Some((floor, cold)) = from_disk {
        metrics.insert(
            "scan_10k_cold_from_disk".into(),
            json(&[("shipwright", ms(cold)), ("floor_read_blake3", ms(floor))]),
        );
    }
    let units = metrics
        .keys()
        .map(|k| (k.clone(), serde_json::json!("ms")))
        .collect();
    merge_summary(units, metrics);
}
