//! Many threads run sandboxes at once without cross-talk.

use pappus_isolation::{InputSet, Item};

use crate::support::{function, item, runtime};

#[test]
fn many_threads_no_cross_talk() {
    let rt = runtime();
    let upper = function(&rt, "upper");
    let concat = function(&rt, "concat");
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let (rt, upper, concat) = (rt.clone(), upper.clone(), concat.clone());
            std::thread::spawn(move || {
                for i in 0..40u64 {
                    let text = format!("thread {t} call {i} ").repeat((i % 7 + 1) as usize);
                    let items = [item(&format!("t{t}"), i, text.as_bytes())];
                    let out = rt
                        .run(
                            &upper,
                            &[InputSet {
                                name: "in",
                                items: &items,
                            }],
                            None,
                        )
                        .expect("upper");
                    assert_eq!(
                        out[0].items,
                        vec![item(&format!("t{t}"), i, text.to_uppercase().as_bytes())]
                    );

                    let parts: Vec<Item> = (0..4)
                        .map(|k| item("p", k, format!("{t}.{i}.{k};").as_bytes()))
                        .collect();
                    let out = rt
                        .run(
                            &concat,
                            &[InputSet {
                                name: "in",
                                items: &parts,
                            }],
                            None,
                        )
                        .expect("concat");
                    let expected = format!("{t}.{i}.0;{t}.{i}.1;{t}.{i}.2;{t}.{i}.3;");
                    assert_eq!(out[0].items[0].data, expected.as_bytes());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker thread panicked");
    }
}
