import type { Command } from 'commander';

// Placeholder until this area lands; replaced by the owning work.
export function registerArchiveCommands(_program: Command): void {}
