// Package arch has no code: its test (arch_test.go) keeps the layering of
// docs/architecture.md, over `go list -deps -json` of the whole module.
// Services never import httpapi (the types they share live in
// internal/patchpanda and internal/coverage), adapters never import each
// other, the domain packages import only the standard library, and ppctl
// does not link the store. Test files are outside the rules: go list -deps
// without -test leaves their imports out.
package arch
