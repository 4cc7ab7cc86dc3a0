export * from './daemon-api.ts';
export * from './remote-api.ts';
export * from './client-api.ts';
export * from './ws-events.ts';
export * from './tokens.ts';
export * from './schedules.ts';
export * from './server-control.ts';
