/**
 * Shell completion scripts, generated from the program's own commands and options, so they never
 * fall behind the CLI: subcommands (and sub-subcommands such as `secret set`), each command's
 * flags, and the choices of flags that have them (`--runtime node|python|exec`).
 */
import type { Command, Option } from 'commander';

/** The shells `nimbus completion` writes scripts for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Entry {
  /** Words before the flags, e.g. ['secret', 'set']. */
  path: string[];
  summary: string;
  flags: { long: string; short?: string; description: string; choices?: readonly string[] }[];
  subcommands: string[];
}

function flagsOf(command: Command): Entry['flags'] {
  return (command.options as Option[])
    .filter((option) => option.long !== undefined && !option.hidden)
    .map((option) => ({
      long: option.long!,
      ...(option.short ? { short: option.short } : {}),
      description: option.description,
      ...(option.argChoices ? { choices: option.argChoices } : {}),
    }));
}

/** Every command of the program, depth first, with the global flags added to each. */
function entriesOf(program: Command): Entry[] {
  const global = flagsOf(program);
  const entries: Entry[] = [];
  const walk = (command: Command, path: string[]) => {
    const visible = command.commands.filter((sub) => !(sub as unknown as { _hidden?: boolean })._hidden);
    entries.push({ path, summary: command.summary() || command.description(), flags: [...flagsOf(command), ...(path.length ? global : [])], subcommands: visible.map((sub) => sub.name()) });
    for (const sub of visible) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return entries;
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(program: Command): string {
  const name = program.name();
  const cases = entriesOf(program).map((entry) => {
    const words = [...entry.subcommands, ...entry.flags.flatMap((f) => [f.long, ...(f.short ? [f.short] : [])])].join(' ');
    const choices = entry.flags
      .filter((f) => f.choices)
      .map((f) => `      ${f.long}${f.short ? `|${f.short}` : ''}) COMPREPLY=($(compgen -W ${quote(f.choices!.join(' '))} -- "$cur")); return ;;`)
      .join('\n');
    return `    ${quote(entry.path.join(' '))})\n      case "$prev" in\n${choices}\n      esac\n      COMPREPLY=($(compgen -W ${quote(words)} -- "$cur")) ;;`;
  });
  return `# bash completion for ${name}: source it, e.g. from ~/.bashrc:  source <(${name} completion bash)
_${name}_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i
  # The command path: the leading words that are subcommands (flags and their values end it).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && break
    case "$(_${name}_subcommands "$path")" in *" $word "*) path="\${path:+$path }$word" ;; *) break ;; esac
  done
  case "$path" in
${cases.join('\n')}
  esac
}
_${name}_subcommands() {
  case "$1" in
${entriesOf(program)
  .map((entry) => `    ${quote(entry.path.join(' '))}) echo " ${entry.subcommands.join(' ')} " ;;`)
  .join('\n')}
  esac
}
complete -o default -F _${name}_complete ${name}
`;
}

function zsh(program: Command): string {
  // zsh runs the bash script through its bash-completion emulation: one implementation to keep right.
  return `#compdef ${program.name()}
# zsh completion for ${program.name()}: add to ~/.zshrc:  source <(${program.name()} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(program)}`;
}

function fish(program: Command): string {
  const name = program.name();
  const lines = [`# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish`, `complete -c ${name} -f`];
  for (const entry of entriesOf(program)) {
    const condition = entry.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${entry.path.at(-1)}`;
    for (const sub of entry.subcommands) {
      const summary = entriesOf(program).find((e) => e.path.join(' ') === [...entry.path, sub].join(' '))?.summary ?? '';
      const when = entry.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${entry.path.at(-1)}; and not __fish_seen_subcommand_from ${entry.subcommands.join(' ')}`;
      lines.push(`complete -c ${name} -n ${quote(when)} -a ${sub} -d ${quote(summary)}`);
    }
    if (entry.path.length === 0) continue;
    for (const flag of entry.flags) {
      const short = flag.short ? ` -s ${flag.short.replace(/^-/, '')}` : '';
      const choices = flag.choices ? ` -x -a ${quote(flag.choices.join(' '))}` : '';
      lines.push(`complete -c ${name} -n ${quote(condition)} -l ${flag.long.replace(/^--/, '')}${short}${choices} -d ${quote(flag.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script of `program` for `shell`. */
export function completionScript(program: Command, shell: Shell): string {
  return shell === 'bash' ? bash(program) : shell === 'zsh' ? zsh(program) : fish(program);
}
