// Package authz decides who may make PatchPanda do what, and says why not.
//
// Decisions are pure functions of a Request (who asked, on which
// repository, by which kind of event, with the repository permission and
// team memberships the caller looked up) and a Policy (the server config's
// RBAC and the repository's access section, which only ever comes from the
// default branch or the server). Needs tells the caller which look-ups a
// decision uses, so it fetches only those (internal/ttlcache keeps
// their answers briefly). docs/testbot-config.md describes the roles and rules.
package authz
