#!/usr/bin/env node
// The `meridian` command: loads the TypeScript CLI through tsx so `npx meridian` works from a checkout.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv.slice(2));
