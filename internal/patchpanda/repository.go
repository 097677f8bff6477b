package patchpanda

import "strings"

// Repository identifies a GitHub repository.
type Repository struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	ID    int64  `json:"id"`
}

// FullName returns "owner/name".
func (r Repository) FullName() string { return r.Owner + "/" + r.Name }

// ParseFullName splits "owner/name". It returns an EINVALID error when s is
// not of that form.
func ParseFullName(s string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", Errorf(EINVALID, "repository %q is not of the form owner/name", s)
	}
	return owner, name, nil
}

// PullRequest identifies one pull request at one pair of commits.
type PullRequest struct {
	Number  int    `json:"number"`
	HeadSHA string `json:"head_sha"`
	BaseSHA string `json:"base_sha"`
}
