/**
 * What the numbers were measured on. Evaluations and benchmarks are meaningless without the
 * machine, so every report carries it.
 */
import os from 'node:os';

/**
 * The machine and runtime a report was produced on. It is the union of the fields the
 * evaluation report (`cpus`, `memoryGb`) and the benchmark report (`cpuCount`,
 * `totalMemoryBytes`, …) have always carried, so both JSON shapes stay readable.
 */
export interface MachineInfo {
  os: string;
  arch: string;
  cpuModel: string;
  /** Logical CPUs (same value as `cpus`; the benchmark's name). */
  cpuCount: number;
  /** Logical CPUs (same value as `cpuCount`; the evaluation's name). */
  cpus: number;
  /** Cores this process may use (cgroup/affinity aware when Node knows it). */
  availableParallelism: number;
  totalMemoryBytes: number;
  /** Total memory in GiB, rounded to one decimal. */
  memoryGb: number;
  node: string;
  /** 1-, 5- and 15-minute load averages when the report was written; other work on the machine slows every number. */
  loadAverage: number[];
}

/** Describes the current machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const totalMemoryBytes = os.totalmem();
  return {
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    cpus: cpus.length,
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryBytes,
    memoryGb: Math.round((totalMemoryBytes / 1024 ** 3) * 10) / 10,
    node: process.version,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
