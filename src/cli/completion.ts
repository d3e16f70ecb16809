/**
 * `nimbus completion bash|zsh`: a completion script made from the command tree, so it knows
 * every command and option there is. zsh runs the bash one through bashcompinit.
 *
 *   source <(nimbus completion bash)      # or add it to ~/.bashrc
 */
import type { Command } from 'commander';

/** Every command path with the words that may follow it (subcommands, then options). */
function tree(program: Command): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (cmd: Command, path: string) => {
    const words = [...cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]), ...cmd.options.map((o) => o.long).filter((l): l is string => !!l), '--help'];
    out.set(path, words);
    for (const c of cmd.commands) for (const name of [c.name(), ...c.aliases()]) walk(c, path ? `${path} ${name}` : name);
  };
  walk(program, '');
  return out;
}

export function bashCompletion(program: Command): string {
  const cases = [...tree(program)].map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`).join('\n');
  return `# nimbus completion (bash); made by 'nimbus completion bash'
_nimbus() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" w words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    if _nimbus_known "\${path:+$path }$w"; then path="\${path:+$path }$w"; fi
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_nimbus_known() {
  case "$1" in
${[...tree(program).keys()].map((p) => `    "${p}") return 0 ;;`).join('\n')}
  esac
  return 1
}
complete -F _nimbus nimbus
`;
}

export function zshCompletion(program: Command): string {
  return `# nimbus completion (zsh); made by 'nimbus completion zsh'
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(nimbus completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') program.error(`error: shell '${shell}' must be bash or zsh`);
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
