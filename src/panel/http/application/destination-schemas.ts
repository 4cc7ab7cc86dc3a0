/** Schemas of the application API's destination routes (backwing extension, docs/destinations.md). */
import { Type } from 'typebox';
export { DestinationAssignments, DestinationAttributes, DestinationObject, DestinationList, DestinationTestObject } from '../../../wire/destinations.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
// String first: with type coercion on, a null tried against integer first would become 0 (a
// destination nobody has); as a string it becomes "", which the routes read as "none".
const Ref = (description: string) => Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Null()], { description }));
const IntLike = Type.Union([Type.Integer(), Type.String()]);
const BoolLike = Type.Union([Type.Boolean(), Type.Integer(), Type.String()]);

export const DestinationBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ description: 'Required on create; unique' }))),
  kind: Type.Optional(Nullable(Type.String({ description: '"local" (on the node, Wings adapter), "s3" or "restic" (a restic repository); required on create' }))),
  endpoint: Type.Optional(Nullable(Type.String({ description: 'S3 endpoint URL; empty = AWS' }))),
  region: Type.Optional(Nullable(Type.String({ description: 'Default us-east-1' }))),
  bucket: Type.Optional(Nullable(Type.String({ description: 'Required for s3' }))),
  prefix: Type.Optional(Nullable(Type.String({ description: 'Key prefix, e.g. "eu/"' }))),
  access_key_id: Type.Optional(Nullable(Type.String())),
  secret_access_key: Type.Optional(Nullable(Type.String({ description: 'Write-only; sealed with APP_KEY; omit to keep the stored one' }))),
  path_style: Type.Optional(Nullable(BoolLike)),
  storage_class: Type.Optional(Nullable(Type.String())),
  part_size: Type.Optional(Nullable(IntLike)),
  is_default: Type.Optional(Nullable(BoolLike)),
  copy_to: Ref('Destination (id, uuid or name) each completed backup is copied to; null = none'),
  skip_test: Type.Optional(Nullable(BoolLike)),
  repository: Type.Optional(Nullable(Type.String({ description: 'restic: an absolute path on the node or s3:https://host/bucket[/prefix] (with access_key_id, secret_access_key, region); the password is generated and never shown' }))),
});

export const AssignDestinationBody = Type.Object({
  destination: Ref('id, uuid or name; null = inherit (node: the default; server: its node\'s)'),
});
