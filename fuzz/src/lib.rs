//! Properties the fuzz targets share: what must hold of any value the domain accepted.

pub mod import;

use std::{
    fmt::Debug,
    sync::{
        Mutex,
        mpsc::{self, Receiver, SyncSender},
    },
    thread,
};

use roster_domain::profile::{Attribute, Owner, Profile};
use serde::{Serialize, de::DeserializeOwned};

/// A value that is stored comes back equal from its JSON form.
pub fn assert_round_trips<T>(value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(value).expect("a domain value serialises");
    let back: T = serde_json::from_str(&json).expect("a serialised domain value reads back");
    assert_eq!(&back, value, "JSON round trip of {json}");
}

/// Provenance follows values: an attribute whose value differs between `before` and `after` is
/// owned by `actor` afterwards; every other attribute keeps its owner, except that an import
/// (`csv`) may take over one whose value it gave unchanged. Answers the attributes whose value or
/// owner changed, in `Attribute::ALL` order.
pub fn assert_provenance(before: &Profile, after: &Profile, actor: Owner) -> Vec<Attribute> {
    let was = serde_json::to_value(before).expect("a profile serialises");
    let is = serde_json::to_value(after).expect("a profile serialises");
    let mut differing = Vec::new();
    for attribute in Attribute::ALL {
        let field = attribute.field();
        let owner = after.managed_by.owner(attribute);
        if was.get(field) != is.get(field) {
            assert_eq!(
                owner, actor,
                "{field} changed but is not owned by its writer"
            );
            differing.push(attribute);
        } else if owner != before.managed_by.owner(attribute) {
            assert!(
                actor == Owner::Csv && owner == Owner::Csv,
                "{field} did not change but changed owner"
            );
            differing.push(attribute);
        }
    }
    differing
}

/// The stack `SmallStack` checks run on: handlers run on 2 MiB tokio worker threads, and a debug
/// build takes about four times the stack of this optimised one.
const SMALL_STACK: usize = 256 * 1024;

/// A thread with a small stack that runs a target's check on each input, so recursion that only
/// the input bounds overflows here (a crash) rather than in a handler. One thread for all inputs:
/// starting one per input would cost most of the time fuzzing has.
pub struct SmallStack {
    inputs: SyncSender<Vec<u8>>,
    done: Mutex<Receiver<()>>,
}

impl SmallStack {
    pub fn new(check: fn(&[u8])) -> Self {
        let (inputs, received) = mpsc::sync_channel::<Vec<u8>>(0);
        let (finished, done) = mpsc::sync_channel(0);
        thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(move || {
                for input in received {
                    check(&input);
                    if finished.send(()).is_err() {
                        return;
                    }
                }
            })
            .expect("a thread starts");
        Self {
            inputs,
            done: Mutex::new(done),
        }
    }

    /// Runs the check on `data` and waits for it.
    pub fn run(&self, data: &[u8]) {
        let done = self
            .done
            .lock()
            .expect("no check panics without ending the process");
        self.inputs
            .send(data.to_vec())
            .expect("the check thread runs until the process ends");
        done.recv()
            .expect("the check thread runs until the process ends");
    }
}
