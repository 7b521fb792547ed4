//! Process-level calls: arguments, environment and `poll_oneoff`.

use super::super::ctx::WasiCtx;
use super::super::errno::Errno;
use super::memory::Mem;
use super::Ret;

pub(super) fn args(c: &WasiCtx) -> Vec<Vec<u8>> {
    if c.settings.args.is_empty() {
        return vec![c.program_name.as_bytes().to_vec()];
    }
    c.settings
        .args
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect()
}

pub(super) fn env(c: &WasiCtx) -> Vec<Vec<u8>> {
    c.settings
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect()
}

pub(super) fn strings_sizes(m: &mut Mem<'_>, strings: &[Vec<u8>], count: u32, size: u32) -> Ret {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    m.put_u32(
        count,
        u32::try_from(strings.len()).map_err(|_| Errno::OVERFLOW)?,
    )?;
    m.put_u32(size, u32::try_from(total).map_err(|_| Errno::OVERFLOW)?)
}

pub(super) fn strings_get(m: &mut Mem<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Ret {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        let slot = ptrs
            .checked_add(u32::try_from(i * 4).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        m.put_u32(slot, at)?;
        m.put(at, s)?;
        let end = at
            .checked_add(u32::try_from(s.len()).map_err(|_| Errno::FAULT)?)
            .ok_or(Errno::FAULT)?;
        m.put(end, &[0])?;
        at = end.checked_add(1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

pub(super) fn poll(
    m: &mut Mem<'_>,
    c: &mut WasiCtx,
    subs: u32,
    events: u32,
    count: u32,
) -> Result<u32, Errno> {
    if count == 0 {
        return Err(Errno::INVAL);
    }
    m.range(subs, u64::from(count) * 48)?;
    m.range(events, u64::from(count) * 32)?;
    // Nothing here ever blocks: every subscription is ready at once, and a clock
    // subscription lets its timeout pass on the logical monotonic clock.
    let mut sleep = 0u64;
    for i in 0..count {
        let sub = subs + i * 48;
        let userdata = m.u64(sub)?;
        let tag = m.bytes(sub + 8, 1)?[0];
        let mut event = [0u8; 32];
        event[0..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = tag;
        match tag {
            0 => {
                let timeout = m.u64(sub + 24)?;
                let absolute = m.bytes(sub + 40, 2)?[0] & 1 != 0;
                if !absolute {
                    sleep = sleep.max(timeout);
                }
            }
            1 | 2 => {
                let fd = m.u32(sub + 16)?;
                let errno = match c.fds.get(fd) {
                    Ok(_) => Errno::SUCCESS,
                    Err(e) => e,
                };
                event[8..10].copy_from_slice(&errno.0.to_le_bytes());
            }
            _ => event[8..10].copy_from_slice(&Errno::INVAL.0.to_le_bytes()),
        }
        m.put(events + i * 32, &event)?;
    }
    c.clock.advance(sleep);
    Ok(count)
}
