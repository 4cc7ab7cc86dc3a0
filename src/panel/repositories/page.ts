export interface PageRequest {
  page: number;
  perPage: number;
}

export interface Page<T> {
  rows: T[];
  total: number;
}

export function offsetOf(p: PageRequest): number {
  return (p.page - 1) * p.perPage;
}
