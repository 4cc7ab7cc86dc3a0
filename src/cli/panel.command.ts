import type { Command } from 'commander';

// Placeholder until this area lands; replaced by the owning work.
export function registerPanelCommand(_program: Command): void {}
