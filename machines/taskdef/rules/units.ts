/**
 * Task-level cpu and memory as RegisterTaskDefinition accepts them: strings holding either the
 * integer unit (CPU units, MiB) or a human form ("1 vCPU", "0.5 vcpu"; "1GB", "2 GB") that ECS
 * converts to the integer unit on registration (ECS API reference, RegisterTaskDefinition cpu and
 * memory members; developer guide task-cpu-memory-error).
 */

/** 1 vCPU = 1024 CPU units; 1 GB = 1024 MiB (ECS's conversions). */
const UNITS_PER_VCPU = 1024;
const MIB_PER_GB = 1024;

/**
 * Supported task cpu on EC2/EXTERNAL: 128 units (0.125 vCPU) to 196608 units (192 vCPU), from the
 * current API model; the 2023 developer guide still says 10240, the model is the newer statement.
 */
export const TASK_CPU_MIN = 128;
export const TASK_CPU_MAX = 196608;

const INTEGER = /^\s*(\d+)\s*$/;
const DECIMAL = "(\\d+(?:\\.\\d+)?|\\.\\d+)";
const VCPU = new RegExp(`^\\s*${DECIMAL}\\s*vcpu\\s*$`, "i");
const GB = new RegExp(`^\\s*${DECIMAL}\\s*gb\\s*$`, "i");

/** A scaled decimal as an exact integer, or null when it is not a whole number of units. */
function scaled(text: string, factor: number): number | null {
  const n = Number(text) * factor;
  return Number.isSafeInteger(n) ? n : null;
}

/** Task cpu in CPU units; null when the text is not a cpu value ECS understands. */
export function parseTaskCpu(text: string): number | null {
  const int = INTEGER.exec(text);
  const units = int ? Number(int[1]) : VCPU.test(text) ? scaled(VCPU.exec(text)?.[1] ?? "", UNITS_PER_VCPU) : null;
  if (units === null || !Number.isSafeInteger(units)) return null;
  return units >= TASK_CPU_MIN && units <= TASK_CPU_MAX ? units : null;
}

/** Task memory in MiB; null when the text is not a memory value ECS understands. */
export function parseTaskMemory(text: string): number | null {
  const int = INTEGER.exec(text);
  const mib = int ? Number(int[1]) : GB.test(text) ? scaled(GB.exec(text)?.[1] ?? "", MIB_PER_GB) : null;
  if (mib === null || !Number.isSafeInteger(mib)) return null;
  return mib > 0 ? mib : null;
}

/**
 * Fargate task sizes: cpu units → allowed memory (MiB) as an inclusive range with a step. From the
 * RegisterTaskDefinition `memory` member of the API model (8 and 16 vCPU need platform 1.4.0).
 * 256 units (.25 vCPU) is not a range: it allows exactly 512, 1024 and 2048 MiB.
 */
const FARGATE_SIZES: ReadonlyMap<number, { min: number; max: number; step: number }> = new Map([
  [512, { min: 1024, max: 4096, step: 1024 }],
  [1024, { min: 2048, max: 8192, step: 1024 }],
  [2048, { min: 4096, max: 16384, step: 1024 }],
  [4096, { min: 8192, max: 30720, step: 1024 }],
  [8192, { min: 16384, max: 61440, step: 4096 }],
  [16384, { min: 32768, max: 122880, step: 8192 }],
]);

/** Whether (cpu, memory) is a Fargate task size. */
export function isFargateSize(cpu: number, memory: number): boolean {
  if (cpu === 256) return memory === 512 || memory === 1024 || memory === 2048;
  const size = FARGATE_SIZES.get(cpu);
  return size !== undefined && memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0;
}
