import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatJson, formatTable, indentTable } from '../format.js';

const EXAMPLES = `
Examples:
  $ nimbus doctor
  $ nimbus doctor --json

Checks this machine the way \`nimbus up\` does at start-up (bubblewrap, user namespaces, a uid per instance, cgroups,
rlimits, pasta for the outbound network, a real node instance in the sandbox), starts one instance of each runtime in the sandbox
that would be used, and lists the protections instances would get here. Nothing is left running.`;

/** Fixes to suggest for a failed check, by check name. */
const FIXES: Record<string, string> = {
  bubblewrap: 'install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 where it exists)',
  'unprivileged user':
    'install uidmap (Debian/Ubuntu: sudo apt-get install uidmap) and give the user subordinate ids (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 <user>), so each instance runs as a uid of its own; or run nimbus as root',
  cgroups: 'run nimbus as root, or in a cgroup delegated to its user (e.g. systemd-run --user --scope -p Delegate=yes nimbus up)',
  rlimits: 'install util-linux (prlimit)',
  'user-mode networking': 'install passt (Debian/Ubuntu: sudo apt-get install passt), which gives --network outbound (the default) its own network; without it only --network none and host can be deployed',
};

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .summary('check which isolation this machine offers')
    .description('Report the sandbox and the protections `nimbus up` would use on this machine, and what to install for the missing ones.')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: { json?: boolean }) => {
      const { io } = ctx;
      const c = ctx.out;
      // Loaded here so the other commands never load the sandbox code.
      const { inspectHost } = await import('../../host-report.js');
      const report = await inspectHost();
      const { checks, protections, ptrace } = report;
      if (opts.json) {
        io.stdout.write(formatJson({ sandbox: report.sandbox, checks, protections, ptrace }));
        return;
      }
      io.stdout.write(`Sandbox: ${report.sandbox === 'bubblewrap' ? c.green(report.sandbox) : c.yellow(`${report.sandbox} (weaker isolation)`)}\n\n`);
      io.stdout.write('Checks:\n');
      const rows = checks.map((check) => [check.name, check.ok ? c.green('ok') : c.yellow('missing'), check.detail]);
      io.stdout.write(indentTable(formatTable(['', '', ''], rows)));
      io.stdout.write('\nProtections of each instance:\n');
      const protectionRows = protections.map((p) => [p.name, p.active ? c.green('on') : c.yellow('off'), p.detail]);
      io.stdout.write(indentTable(formatTable(['', '', ''], protectionRows)));
      io.stdout.write('\nptrace:\n');
      for (const line of ptrace.enforced) io.stdout.write(`  ${c.green('on')}   ${line}\n`);
      for (const line of ptrace.notEnforced) io.stdout.write(`  ${c.yellow('off')}  ${line}\n`);
      const fixes = checks.filter((check) => !check.ok && FIXES[check.name]);
      if (fixes.length > 0) {
        io.stdout.write('\nTo turn on what is missing:\n');
        for (const check of fixes) io.stdout.write(`  ${check.name}: ${FIXES[check.name]}\n`);
      }
    });
}
