/**
 * Backup destinations as the application API shows them (backwing extension,
 * docs/destinations.md); the web UI's admin page reads the same shapes.
 */
import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DestinationAttributes = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  endpoint: Nullable(Type.String()),
  region: Nullable(Type.String()),
  bucket: Nullable(Type.String()),
  prefix: Type.String(),
  access_key_id: Nullable(Type.String()),
  has_secret: Type.Boolean(),
  path_style: Type.Boolean(),
  storage_class: Nullable(Type.String()),
  part_size: Nullable(Type.Integer()),
  is_default: Type.Boolean(),
  copy_to: Nullable(Type.Integer()),
  created_at: Type.String(),
  updated_at: Type.String(),
  /** restic destinations: the repository (a path on the node or `s3:https://host/bucket[/prefix]`). */
  repository: Type.Optional(Nullable(Type.String())),
  /** restic destinations: the generated password is stored sealed and never shown. */
  has_password: Type.Optional(Type.Boolean()),
});

export const DestinationObject = Type.Object({ object: Type.Literal('destination'), attributes: DestinationAttributes });
export const DestinationList = Type.Object({ object: Type.Literal('list'), data: Type.Array(DestinationObject) });
export const DestinationTestObject = Type.Object({
  object: Type.Literal('destination_test'),
  attributes: Type.Object({ ok: Type.Boolean(), s3_error: Nullable(Type.String()), message: Type.String() }),
});
export type DestinationAttributes = Static<typeof DestinationAttributes>;

/** Where each node's backups go, and the servers that override their node (the admin page's table). */
export const DestinationAssignments = Type.Object({
  object: Type.Literal('destination_assignments'),
  attributes: Type.Object({
    nodes: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), destination: Nullable(Type.Integer()) })),
    servers: Type.Array(Type.Object({
      id: Type.Integer(), identifier: Type.String(), uuid: Type.String(), name: Type.String(), node: Type.Integer(), destination: Type.Integer(),
    })),
  }),
});
export type DestinationAssignments = Static<typeof DestinationAssignments>;
