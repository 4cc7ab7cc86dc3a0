/**
 * Schemas of the application API. Request bodies list every accepted field but require none, so
 * the handlers can answer a missing field with upstream's wording ("The name field is required.");
 * responses are serialised through these schemas, so nothing outside them can leak.
 */
import { Type } from 'typebox';
import { Pagination } from '../../../wire/client-api.ts';

const IntLike = Type.Union([Type.Integer(), Type.String()]);
const BoolLike = Type.Union([Type.Boolean(), Type.Integer(), Type.String()]);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** backwing: `PUT /api/application/nodes/{id}/backup-ignore`. */
export const NodeBackupIgnoreBody = Type.Object({ patterns: Nullable(Type.String({ description: 'Newline-separated patterns; empty or null clears them' })) });

/** backwing (issue 17): `PUT /api/application/eggs/{id}`. */
export const EggBody = Type.Object({
  name: Type.Optional(Type.String({ description: 'Required when the egg is new' })),
  nest: Type.Optional(IntLike),
  backup_ignore: Type.Optional(Nullable(Type.String({ description: 'Newline-separated patterns every backup of the egg\'s servers gets; empty or null clears them' }))),
});
export const EggObject = Type.Object({
  object: Type.Literal('egg'),
  attributes: Type.Object({ id: Type.Integer(), nest: Type.Integer(), name: Type.String(), backup_ignore: Nullable(Type.String()) }),
});
export const EggList = Type.Object({ object: Type.Literal('list'), data: Type.Array(EggObject) });

export const IdParams = Type.Object({ id: Type.String({ description: 'Numeric id or uuid (servers: also the 8-character identifier)' }) });

export const PageQuery = Type.Object({
  page: Type.Optional(Type.String()),
  per_page: Type.Optional(Type.String({ description: 'Default 50, at most 100' })),
  'filter[email]': Type.Optional(Type.String()),
});

export const CreateUserBody = Type.Object({
  email: Type.Optional(Nullable(Type.String({ description: 'Required' }))),
  username: Type.Optional(Nullable(Type.String())),
  password: Type.Optional(Nullable(Type.String({ description: 'At least 8 characters; a random one when absent' }))),
  root_admin: Type.Optional(Nullable(BoolLike)),
  first_name: Type.Optional(Nullable(Type.String())),
  last_name: Type.Optional(Nullable(Type.String())),
  language: Type.Optional(Nullable(Type.String())),
  external_id: Type.Optional(Nullable(Type.String())),
});

export const CreateNodeBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ description: 'Required' }))),
  url: Type.Optional(Nullable(Type.String({ description: 'scheme://host:port of the daemon; or give fqdn + scheme + daemon_listen' }))),
  fqdn: Type.Optional(Nullable(Type.String())),
  scheme: Type.Optional(Nullable(Type.String())),
  daemon_listen: Type.Optional(Nullable(IntLike)),
});

const FeatureLimitsInput = Type.Object({
  backups: Type.Optional(Nullable(IntLike)),
  /** backwing extension: storage quota in bytes for the server's backups, beside the count; null or 0 = none. */
  backup_bytes: Type.Optional(Nullable(IntLike)),
  databases: Type.Optional(Nullable(IntLike)),
  allocations: Type.Optional(Nullable(IntLike)),
});

export const CreateServerBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ description: 'Required' }))),
  user: Type.Optional(Nullable(IntLike)),
  node: Type.Optional(Nullable(IntLike)),
  node_id: Type.Optional(Nullable(IntLike)),
  feature_limits: Type.Optional(Nullable(FeatureLimitsInput)),
  backup_limit: Type.Optional(Nullable(IntLike)),
  egg: Type.Optional(Nullable(IntLike)),
});

export const ServerDetailsBody = Type.Object({
  name: Type.Optional(Nullable(Type.String())),
  user: Type.Optional(Nullable(IntLike)),
});

export const ServerBuildBody = Type.Object({
  feature_limits: Type.Optional(Nullable(FeatureLimitsInput)),
  backup_limit: Type.Optional(Nullable(IntLike)),
});

/** Upstream's startup body; backwing reads only `egg` (issue 17). */
export const ServerStartupBody = Type.Object({
  egg: Type.Optional(Nullable(IntLike)),
  startup: Type.Optional(Nullable(Type.String())),
  image: Type.Optional(Nullable(Type.String())),
  environment: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
  skip_scripts: Type.Optional(Nullable(BoolLike)),
});

export const UserObject = Type.Object({
  object: Type.Literal('user'),
  attributes: Type.Object({
    id: Type.Integer(),
    external_id: Type.Null(),
    uuid: Type.String(),
    username: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    language: Type.String(),
    root_admin: Type.Boolean(),
    '2fa': Type.Boolean(),
    created_at: Type.String(),
    updated_at: Type.String(),
  }),
});

const NodeAttributes = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  public: Type.Boolean(),
  name: Type.String(),
  description: Type.Null(),
  url: Type.String(),
  fqdn: Type.String(),
  scheme: Type.String(),
  behind_proxy: Type.Boolean(),
  maintenance_mode: Type.Boolean(),
  /** backwing (issue 17): ignore patterns every backup on the node gets; null = none. */
  backup_ignore: Type.Optional(Nullable(Type.String())),
  daemon_listen: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export const NodeObject = Type.Object({ object: Type.Literal('node'), attributes: NodeAttributes });
export const CreatedNodeObject = Type.Object({
  object: Type.Literal('node'),
  attributes: NodeAttributes,
  meta: Type.Object({ token_id: Type.String(), token: Type.String({ description: 'The daemon token, shown only here' }) }),
});

export const ServerObject = Type.Object({
  object: Type.Literal('server'),
  attributes: Type.Object({
    id: Type.Integer(),
    external_id: Type.Null(),
    uuid: Type.String(),
    identifier: Type.String(),
    name: Type.String(),
    description: Type.String(),
    status: Nullable(Type.String()),
    suspended: Type.Boolean(),
    limits: Type.Object({
      memory: Type.Integer(), swap: Type.Integer(), disk: Type.Integer(), io: Type.Integer(), cpu: Type.Integer(),
      threads: Type.Null(), oom_disabled: Type.Boolean(),
    }),
    feature_limits: Type.Object({ databases: Type.Integer(), allocations: Type.Integer(), backups: Type.Integer(), backup_bytes: Type.Optional(Nullable(Type.Integer({ description: 'backwing: storage quota in bytes; null = none' }))) }),
    user: Type.Integer(),
    node: Type.Integer(),
    allocation: Type.Integer(),
    nest: Type.Integer({ description: "backwing: the nest of the server's egg (0 = none)" }),
    egg: Type.Integer({ description: 'backwing: the egg (game type) the server was made from, set at creation or with PATCH /servers/{id}/startup (0 = none)' }),
    created_at: Type.String(),
    updated_at: Type.String(),
  }),
});

const listOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(item),
  meta: Type.Object({ pagination: Pagination }),
});
export const UserList = listOf(UserObject);
export const NodeList = listOf(NodeObject);
export const ServerList = listOf(ServerObject);
