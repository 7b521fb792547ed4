//! Bare wasmtime per request, in-process: the floor under Pappus's sandbox.
//!
//! A fresh store and instance of the guest module from an `InstancePre` with
//! the pooling allocator, one input item placed by the guest ABI v1 (the
//! smallest region: one set, one item), one call, the first output item's bytes
//! copied out. No limits, no deadline, no validation beyond bounds checks:
//! only what any wasm sandbox must do.

use anyhow::{anyhow, bail, Context, Result};
use wasmtime::{
    Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig, Store,
};

const PAGE: u64 = 64 * 1024;
const MAGIC: u32 = 0x5355_5050;

/// A compiled module ready to be instantiated per call.
pub struct Floor {
    engine: Engine,
    pre: InstancePre<()>,
}

impl Floor {
    /// Compiles `module` on an engine with the pooling allocator.
    pub fn new(module: &[u8]) -> Result<Floor> {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(64)
            .total_memories(64)
            .total_tables(64);
        let mut config = wasmtime::Config::new();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = wt(Engine::new(&config), "creating the wasmtime engine")?;
        let module = wt(Module::new(&engine, module), "compiling the module")?;
        let pre = wt(
            Linker::<()>::new(&engine).instantiate_pre(&module),
            "pre-instantiating",
        )?;
        Ok(Floor { engine, pre })
    }

    /// One call with one input item (set `in`, item `x`, key 0): answers the first
    /// output item's data (empty when the guest reports none).
    ///
    /// Errors: instantiation, a trap, a non-zero status, or an output descriptor
    /// outside memory.
    pub fn call(&self, input: &[u8]) -> Result<Vec<u8>> {
        let mut store = Store::new(&self.engine, ());
        let instance = wt(self.pre.instantiate(&mut store), "instantiating")?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .context("no memory export")?;
        let entry = wt(
            instance.get_typed_func::<u32, u32>(&mut store, "pappus_entry"),
            "finding the entry",
        )?;

        let region = region_len(input.len());
        let pages = region.div_ceil(PAGE);
        let base = wt(
            memory.grow(&mut store, pages),
            "growing memory for the input",
        )? * PAGE;
        let mem = memory.data_mut(&mut store);
        let at = |off: u64| (base + off) as usize;
        let put = |mem: &mut [u8], off: u64, bytes: &[u8]| {
            mem[at(off)..at(off) + bytes.len()].copy_from_slice(bytes)
        };
        let b = base as u32;
        put(mem, 0, &MAGIC.to_le_bytes());
        put(mem, 4, &1u32.to_le_bytes());
        put(mem, 8, &(region as u32).to_le_bytes());
        put(mem, 12, &1u32.to_le_bytes());
        put(mem, 16, &(b + 32).to_le_bytes());
        // The set: name "in" at +72, its one item descriptor at +48.
        put(mem, 32, &(b + 72).to_le_bytes());
        put(mem, 36, &2u32.to_le_bytes());
        put(mem, 40, &(b + 48).to_le_bytes());
        put(mem, 44, &1u32.to_le_bytes());
        // The item: name "x" at +80, key 0, data at +88.
        put(mem, 48, &(b + 80).to_le_bytes());
        put(mem, 52, &1u32.to_le_bytes());
        put(mem, 56, &0u64.to_le_bytes());
        put(mem, 64, &(b + 88).to_le_bytes());
        put(mem, 68, &(input.len() as u32).to_le_bytes());
        put(mem, 72, b"in");
        put(mem, 80, b"x");
        put(mem, 88, input);

        let status = wt(entry.call(&mut store, b), "calling the entry")?;
        if status != 0 {
            bail!("the guest returned status {status}");
        }
        let mem = memory.data(&store);
        let output = read_u32(mem, at(20))?;
        if output == 0 {
            return Ok(Vec::new());
        }
        let set_count = read_u32(mem, output as usize)?;
        if set_count == 0 {
            return Ok(Vec::new());
        }
        let sets = read_u32(mem, output as usize + 4)? as usize;
        let items = read_u32(mem, sets + 8)? as usize;
        if read_u32(mem, sets + 12)? == 0 {
            return Ok(Vec::new());
        }
        let data = read_u32(mem, items + 16)? as usize;
        let len = read_u32(mem, items + 20)? as usize;
        match mem.get(data..data + len) {
            Some(bytes) => Ok(bytes.to_vec()),
            None => bail!("output item outside memory"),
        }
    }
}

/// wasmtime's own error type into an `anyhow` error naming the step.
fn wt<T>(result: wasmtime::Result<T>, what: &str) -> Result<T> {
    result.map_err(|e| anyhow!("{what}: {e:?}"))
}

/// Size of a one-set, one-item region holding `data_len` bytes (8-byte padded).
fn region_len(data_len: usize) -> u64 {
    (88 + data_len as u64).div_ceil(8) * 8
}

fn read_u32(mem: &[u8], at: usize) -> Result<u32> {
    match mem.get(at..at + 4) {
        Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        None => bail!("output descriptor outside memory"),
    }
}
