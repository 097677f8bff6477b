package webhook

import "github.com/patchpanda/patchpanda/internal/patchpanda"

// RepositoryEvent is a "repository" event PatchPanda acts on: a repository
// was renamed, transferred to another owner, or deleted. The repository's
// id stays the same through a rename or a transfer; Repository carries its
// new name and owner.
type RepositoryEvent struct {
	Action         string // "renamed", "transferred", "deleted", …
	Repository     patchpanda.Repository
	InstallationID int64 // 0 when the payload names none
	Sender         User
}

// EventName returns "repository".
func (*RepositoryEvent) EventName() string { return "repository" }

func (*RepositoryEvent) isEvent() {}

func (w *wireCommon) repositoryEvent(f *fields) *RepositoryEvent {
	f.need(w.Action != "", "action")
	return &RepositoryEvent{Action: w.Action, Repository: f.repository(w.Repository, "repository"),
		InstallationID: w.installationID(), Sender: w.Sender.user()}
}
