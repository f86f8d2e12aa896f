/**
 * The seccomp filter bubblewrap loads into every instance (`--seccomp <fd>`): it refuses ptrace
 * with EPERM, so no process of an instance can attach to (and stop, or read) its own runtime. It
 * is the classic BPF program of seccomp(2), seven instructions, written out here because no
 * maintained npm package builds one on Node 20; each instruction is spelled out below.
 *
 * x86_64 only: on other architectures no filter is applied, and `nimbus doctor` says so.
 */
import { arch } from 'node:os';

// Instruction classes and fields (linux/filter.h, linux/bpf_common.h).
const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of seccomp_data
const BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K: compare with a constant
const BPF_RET_K = 0x06; // BPF_RET | BPF_K: return a constant

// Offsets in struct seccomp_data, and return values (linux/seccomp.h).
const DATA_NR = 0;
const DATA_ARCH = 4;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;

const AUDIT_ARCH_X86_64 = 0xc000003e;
/** ptrace on x86_64, and on its x32 ABI (which numbers system calls from 0x40000000). */
const NR_PTRACE_X86_64 = 101;
const NR_PTRACE_X32 = 0x40000000 + 521;

/** One `struct sock_filter`: code (u16), jt (u8), jf (u8), k (u32), little-endian like x86_64. */
function instruction(code: number, jt: number, jf: number, k: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt16LE(code, 0);
  bytes.writeUInt8(jt, 2);
  bytes.writeUInt8(jf, 3);
  bytes.writeUInt32LE(k >>> 0, 4);
  return bytes;
}

/**
 * The filter, or undefined where it is not built (not x86_64). Jumps are relative: a taken jump
 * goes to the instruction `1 + jt` (or `1 + jf`) after itself.
 */
export function ptraceFilter(machine: string = arch()): Buffer | undefined {
  if (machine !== 'x64') return undefined;
  return Buffer.concat([
    /* 0 */ instruction(BPF_LD_W_ABS, 0, 0, DATA_ARCH),
    // Another architecture's system calls (the i386 ABI through int 0x80) are refused outright:
    // nothing an instance runs needs them, and their numbers differ.
    /* 1 */ instruction(BPF_JEQ_K, 0, 4, AUDIT_ARCH_X86_64), // x86_64: 2, else: 6
    /* 2 */ instruction(BPF_LD_W_ABS, 0, 0, DATA_NR),
    /* 3 */ instruction(BPF_JEQ_K, 2, 0, NR_PTRACE_X86_64), // ptrace: 6, else: 4
    /* 4 */ instruction(BPF_JEQ_K, 1, 0, NR_PTRACE_X32), // x32 ptrace: 6, else: 5
    /* 5 */ instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    /* 6 */ instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
  ]);
}
