// The part of Dagger's core GraphQL API that our module (.dagger/src) and its tests call. Field, argument
// and enum names follow what the real SDK's generated client encodes
// (node_modules/@dagger.io/dagger/dist/src/api/client.gen.js, 0.21.9), which is generated from the
// engine's schema (dagger/dagger core/schema/*.go). Anything else is absent on purpose: a call the
// stand-in does not implement fails validation loudly instead of half-working.
//
// Objects are reached again through `node(id:)` with an inline fragment, as the 0.21 SDK does
// (common/context.js selectNode); every object type implements Node.
export const SDL = /* GraphQL */ `
  scalar ContainerID
  scalar DirectoryID
  scalar FileID
  scalar SecretID
  scalar CacheVolumeID
  scalar Platform

  enum ReturnType { SUCCESS FAILURE ANY }
  enum CacheSharingMode { SHARED PRIVATE LOCKED }
  enum ImageLayerCompression { Gzip Zstd EStarGZ Uncompressed }
  enum ImageMediaTypes { OCIMediaTypes DockerMediaTypes }

  input BuildArg { name: String!, value: String! }

  interface Node { id: ID! }

  type Query {
    node(id: ID!): Node
    container(platform: Platform): Container!
    directory: Directory!
    cacheVolume(key: String!, source: DirectoryID, sharing: CacheSharingMode, owner: String): CacheVolume!
    setSecret(name: String!, plaintext: String!): Secret!
    host: Host!
    loadContainerFromID(id: ContainerID!): Container!
    loadDirectoryFromID(id: DirectoryID!): Directory!
    loadFileFromID(id: FileID!): File!
    loadSecretFromID(id: SecretID!): Secret!
    loadCacheVolumeFromID(id: CacheVolumeID!): CacheVolume!
  }

  type Host {
    directory(path: String!, exclude: [String!], include: [String!], noCache: Boolean, gitignore: Boolean): Directory!
    file(path: String!, noCache: Boolean): File!
  }

  type Container implements Node {
    id: ID!
    sync: ID!
    from(address: String!): Container!
    withExec(
      args: [String!]!
      useEntrypoint: Boolean
      stdin: String
      redirectStdin: String
      redirectStdout: String
      redirectStderr: String
      expect: ReturnType
      experimentalPrivilegedNesting: Boolean
      insecureRootCapabilities: Boolean
      expand: Boolean
      noInit: Boolean
    ): Container!
    stdout: String!
    stderr: String!
    exitCode: Int!
    withEnvVariable(name: String!, value: String!, expand: Boolean): Container!
    envVariable(name: String!): String
    withSecretVariable(name: String!, secret: SecretID!): Container!
    withMountedSecret(path: String!, source: SecretID!, owner: String, mode: Int, expand: Boolean): Container!
    withMountedCache(path: String!, cache: CacheVolumeID!, source: DirectoryID, sharing: CacheSharingMode, owner: String, expand: Boolean): Container!
    withMountedDirectory(path: String!, source: DirectoryID!, owner: String, readOnly: Boolean, expand: Boolean): Container!
    withMountedFile(path: String!, source: FileID!, owner: String, expand: Boolean): Container!
    withDirectory(path: String!, source: DirectoryID!, exclude: [String!], include: [String!], gitignore: Boolean, owner: String, expand: Boolean, permissions: Int): Container!
    withFile(path: String!, source: FileID!, permissions: Int, owner: String, expand: Boolean): Container!
    withNewFile(path: String!, contents: String!, permissions: Int, owner: String, expand: Boolean): Container!
    withWorkdir(path: String!, expand: Boolean): Container!
    workdir: String!
    withUser(name: String!): Container!
    user: String!
    withLabel(name: String!, value: String!): Container!
    label(name: String!): String
    withAnnotation(name: String!, value: String!): Container!
    withRegistryAuth(address: String!, username: String!, secret: SecretID!): Container!
    publish(address: String!, platformVariants: [ContainerID!], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes): String!
    asTarball(platformVariants: [ContainerID!], forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes): File!
    file(path: String!, expand: Boolean): File!
    directory(path: String!, expand: Boolean): Directory!
  }

  type Directory implements Node {
    id: ID!
    sync: ID!
    withNewFile(path: String!, contents: String!, permissions: Int): Directory!
    withDirectory(path: String!, source: DirectoryID!, exclude: [String!], include: [String!], gitignore: Boolean, owner: String, permissions: Int): Directory!
    withFile(path: String!, source: FileID!, permissions: Int): Directory!
    file(path: String!): File!
    directory(path: String!): Directory!
    entries(path: String): [String!]!
    dockerBuild(dockerfile: String, platform: Platform, buildArgs: [BuildArg!], target: String, secrets: [SecretID!], noInit: Boolean): Container!
    export(path: String!, wipe: Boolean): String!
  }

  type File implements Node {
    id: ID!
    sync: ID!
    contents(offsetLines: Int, limitLines: Int): String!
    export(path: String!, allowParentDirPath: Boolean): String!
  }

  type Secret implements Node {
    id: ID!
    name: String!
    plaintext: String!
  }

  type CacheVolume implements Node {
    id: ID!
  }
`;
