import { Type } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** A repository's prune and check state (a node's own, or a restic destination's). */
const UpkeepFields = {
  forgotten_since_prune: Type.Integer(),
  last_prune_at: Nullable(Type.String()),
  last_check_at: Nullable(Type.String()),
  last_check_ok: Nullable(Type.Boolean()),
  last_check_message: Nullable(Type.String()),
};

export const ResticSettingsBody = Type.Object({
  enabled: Type.Optional(Type.Boolean({ description: 'New backups on this node use restic while true (default true)' })),
  repository: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'An absolute path on the node, or s3:https://host/bucket[/prefix]' })),
  s3: Type.Optional(Nullable(Type.Object({
    access_key_id: Type.String({ minLength: 1, maxLength: 256 }),
    secret_access_key: Type.String({ minLength: 1, maxLength: 256, description: 'Stored sealed; never returned' }),
    region: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  }))),
}, { additionalProperties: false });

export const ResticSettingsObject = Type.Object({
  object: Type.Literal('node_restic'),
  attributes: Type.Object({
    enabled: Type.Boolean(),
    repository: Type.String(),
    s3_access_key_id: Nullable(Type.String()),
    s3_region: Nullable(Type.String()),
    has_password: Type.Boolean({ description: 'Always true: the password exists but is never shown' }),
    ...UpkeepFields,
  }),
});

export const ResticUpkeepList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({
    object: Type.Literal('restic_upkeep'),
    attributes: Type.Object({
      node_id: Type.Integer(),
      node_uuid: Type.String(),
      node_name: Type.String(),
      shared_repository: Type.Boolean({ description: 'An s3: repository: one repository for every node, pruned and checked through this node' }),
      ...UpkeepFields,
    }),
  })),
});
