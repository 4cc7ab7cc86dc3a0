// Vite bundles CSS imported from modules; tell the type checker such imports exist.
declare module '*.css';
