/**
 * How busy the machine is while the benchmark runs (the machine description itself is
 * `util/machine.ts`).
 */
import fs from 'node:fs';
import os from 'node:os';

/** A warning when other processes already keep the CPUs busy (1-minute load average above half the cores), else null. */
export function busyMachineWarning(): string | null {
  const [load] = os.loadavg();
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (load === undefined || load <= cores / 2) return null;
  return `the machine is busy before the benchmark starts (1-minute load average ${load.toFixed(1)} on ${cores} cores): results will be slower than on an idle machine.`;
}

interface CpuSnapshot {
  /** Busy seconds of the whole machine (all cores) since boot. */
  machineBusy: number;
  /** CPU seconds of this process (all threads) so far. */
  own: number;
  at: number;
}

// USER_HZ: /proc/stat counts in these ticks; 100 on every mainstream Linux build.
const TICKS_PER_SECOND = 100;

function cpuSnapshot(pids: readonly number[]): CpuSnapshot | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    const cpu = process.cpuUsage();
    let own = (cpu.user + cpu.system) / 1e6;
    for (const pid of pids) own += processCpuSeconds(pid);
    return { machineBusy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND, own, at: performance.now() };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of another process, from /proc/<pid>/stat. */
function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces); utime and stime are the 12th and 13th.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
}

/**
 * Measures how much CPU other processes (and the hypervisor, as steal time) took while a
 * measurement ran, so a slow number can be told apart from a busy machine. Linux only.
 */
export class OtherCpuMeter {
  private readonly start: CpuSnapshot | null;

  /** Starts measuring; `pids` are child processes that count as part of the benchmark. */
  constructor(private readonly pids: readonly number[] = []) {
    this.start = cpuSnapshot(pids);
  }

  /** Average number of cores kept busy by everything except the benchmark since construction; null off Linux. */
  stop(): number | null {
    const end = cpuSnapshot(this.pids);
    if (!this.start || !end) return null;
    const wall = (end.at - this.start.at) / 1000;
    if (wall <= 0) return null;
    const others = end.machineBusy - this.start.machineBusy - (end.own - this.start.own);
    return Math.max(0, Math.round((others / wall) * 100) / 100);
  }
}
