/**
 * The step between a platform that is not root and each instance's bubblewrap, when the user has
 * subordinate uids (see subuid-users.ts). It runs as the platform's user, with the platform's user
 * namespace open on a descriptor (the user is uid 0 there, its subordinate uids 1..N), and:
 *
 * 1. enters that namespace (setns), where it has every capability, over files whose owner and group
 *    are mapped there (the platform's, the instances');
 * 2. `run`: gives the instance's socket directory (0770) and code directory (0750) to the instance's
 *    own group (they stay the platform's: it removes them and links code in), drops the supplementary
 *    groups, takes the instance's gid and uid (real, effective, saved, file system), checks them in
 *    /proc/self/status, sets umask 0 (the runtime's socket must be writable by the platform, which is
 *    "other" for it: the 0770 directory is the gate) and execs bubblewrap;
 *    `remove`: execs `rm -rf` on directories an instance left, as root of the namespace (an instance
 *    can make a subdirectory in its socket directory that the platform itself could not empty).
 *
 * Why a separate process: entering a user namespace needs a single-threaded process, and Node never
 * is one. Why Perl: always installed on Debian and Ubuntu (perl-base, as for netns-exec.ts), and a
 * bare script starts in a few milliseconds (no modules: `use POSIX` alone costs ~40 ms).
 *
 * Usage: `perl -e SUBUID_EXEC_SCRIPT run <ns fd> <syscalls> <uid> <gid> <socket dir> <code dir> <command...>`
 * or `perl -e SUBUID_EXEC_SCRIPT remove <ns fd> <syscalls> <rm> <dir...>`, where `<syscalls>` is
 * {@link SUBUID_SYSCALLS} joined with commas.
 */
export const SUBUID_EXEC_SCRIPT = String.raw`
my ($mode, $fd, $calls, @rest) = @ARGV;
my ($setns, $setgroups, $setresgid, $setresuid) = split(/,/, $calls);
# CLONE_NEWUSER
syscall($setns + 0, $fd + 0, 0x10000000) == 0 or die "cannot enter the platform's user namespace: $!\n";
# The instance must not keep the namespace open.
open(my $ns, '<&=', $fd + 0) and close($ns);
if ($mode eq 'remove') {
  my ($rm, @dirs) = @rest;
  { exec { $rm } $rm, '-rf', '--', @dirs }; die "cannot run $rm: $!\n";
}
my ($uid, $gid, $socket, $code, @cmd) = @rest;
chown(-1, $gid + 0, $socket, $code) == 2 or die "cannot give the instance's directories to its group: $!\n";
chmod(0770, $socket) && chmod(0750, $code) or die "cannot open the instance's directories to its group: $!\n";
syscall($setgroups + 0, 0, 0) == 0 or die "setgroups: $!\n";
syscall($setresgid + 0, $gid + 0, $gid + 0, $gid + 0) == 0 or die "setresgid: $!\n";
syscall($setresuid + 0, $uid + 0, $uid + 0, $uid + 0) == 0 or die "setresuid: $!\n";
open(my $st, '<', '/proc/self/status') or die "cannot read /proc/self/status: $!\n";
my $status = do { local $/; <$st> };
$status =~ /^Uid:\s+$uid\s+$uid\s+$uid\s+$uid\s*$/m && $status =~ /^Gid:\s+$gid\s+$gid\s+$gid\s+$gid\s*$/m && $status =~ /^Groups:\s*$/m
  or die "the instance's credentials are not uid $uid, gid $gid and no groups:\n$status";
umask(0);
{ exec { $cmd[0] } @cmd }; die "cannot run $cmd[0]: $!\n";
`;

/**
 * The system call numbers the script needs (setns, setgroups, setresgid, setresuid) on this
 * machine's architecture; undefined where they are not known (subordinate uids are then not used).
 */
export const SUBUID_SYSCALLS: readonly number[] | undefined = ({ x64: [308, 116, 119, 117], arm64: [268, 159, 149, 147] } as Record<string, number[]>)[process.arch];

/** The descriptor the step finds the namespace on: the first after bubblewrap's own (0-6). */
export const NAMESPACE_FD = 7;
