/**
 * Runs a command with two descriptors open: the network namespace of a sandboxed process and
 * the user namespace that owns it, named `{netns}` and `{userns}` in its arguments (replaced by
 * `/proc/self/fd/N`).
 *
 * Why this exists: bubblewrap nests a second user namespace inside the one that owns the
 * instance's network namespace (it does so for `--disable-userns` and for mapping the sandbox
 * uid), so `/proc/<pid>/ns/user` is the wrong one to join, and no `/proc` path names the owner.
 * The kernel answers it through the NS_GET_USERNS ioctl on the network namespace, which Node
 * cannot call; Perl (always installed on Debian and Ubuntu, as perl-base) can. The script only
 * opens, asks and execs: the command replaces it, so its pid is the command's pid.
 *
 * When `prctl` is the prctl(2) syscall number (not 0), the script stays as the command's parent
 * and ends it (SIGKILL) when it receives SIGTERM, which the kernel also sends it when the platform
 * dies, however it dies (PR_SET_PDEATHSIG). The command cannot keep such a signal itself: joining
 * a user namespace clears it.
 *
 * Usage: `perl -e NETNS_EXEC_SCRIPT <prctl> <platform pid> <pid> <command> [args...]`.
 */
export const NETNS_EXEC_SCRIPT = String.raw`
use strict; use warnings; use Fcntl qw(F_SETFD);
my ($prctl, $parent, $pid, @cmd) = @ARGV;
open(my $net, '<', "/proc/$pid/ns/net") or die "cannot open the network namespace of process $pid: $!\n";
# NS_GET_USERNS = _IO(0xb7, 0x1): a new descriptor of the user namespace owning $net.
my $fd = ioctl($net, 0xb701, 0) or die "cannot find the user namespace owning that network namespace: $!\n";
open(my $user, '<&=', $fd + 0) or die "cannot use the user namespace descriptor: $!\n";
# Both must survive the exec (Perl and the ioctl set close-on-exec).
fcntl($_, F_SETFD, 0) or die "fcntl: $!\n" for ($net, $user);
my ($n, $u) = (fileno($net), fileno($user));
s/\{netns\}/\/proc\/self\/fd\/$n/g, s/\{userns\}/\/proc\/self\/fd\/$u/g for @cmd;
# (Braces: Perl warns about statements after an exec otherwise.)
if (!$prctl) { { exec { $cmd[0] } @cmd }; die "cannot run $cmd[0]: $!\n"; }
my ($child, $stop) = (0, 0);
$SIG{TERM} = sub { $stop = 1; kill 'KILL', $child if $child; };
# PR_SET_PDEATHSIG (1) = SIGTERM (15); a parent gone already would never send it.
syscall($prctl, 1, 15) == 0 or die "prctl: $!\n";
exit 1 if getppid() != $parent;
$child = fork() // die "fork: $!\n";
if ($child == 0) { { exec { $cmd[0] } @cmd }; print STDERR "cannot run $cmd[0]: $!\n"; exit 127; }
kill 'KILL', $child if $stop;
1 while waitpid($child, 0) == -1 && $!{EINTR};
exit($? & 127 ? 128 + ($? & 127) : $? >> 8);
`;

/** The prctl(2) syscall number on this machine's architecture (0: unknown, no parent-death signal). */
export const PRCTL_SYSCALL = ({ x64: 157, arm64: 167 } as Record<string, number>)[process.arch] ?? 0;
