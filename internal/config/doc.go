// Package config reads PatchPanda's two configuration files and merges them:
// a repository's .testbot.yml (parsed strictly, with the line and column of
// every problem) and the operator's server config (PATCHPANDA_SERVER_CONFIG:
// defaults, limits, the keys a pull request may override, and RBAC).
//
// The package is pure: it parses bytes and merges values. Fetching a file at
// a commit, caching it and reporting problems on GitHub are the caller's job.
//
// One schema, declared in schema.go, drives the parser, the merge (which keys
// are protected, which can be limited), the JSON Schema in
// docs/testbot.schema.json and the Config struct handed to the worker; tests
// keep all four in agreement. docs/testbot-config.md describes the files.
package config
