package webhookload

import (
	"embed"
	"fmt"
)

//go:embed testdata/*.json
var fixtureFS embed.FS

// Fixture is a kind of delivery the load generator sends: its event and
// how to build the body of delivery n.
type Fixture struct {
	Name    string
	Event   string
	Payload func(n int) []byte
}

// Size returns the body size of the fixture's deliveries in bytes.
func (f Fixture) Size() int { return len(f.Payload(1)) }

// Fixtures returns the deliveries of the sizes GitHub sends most: an
// installation_repositories (about 2 KB), an issue_comment on a pull
// request (about 16 KB) and a pull_request synchronize (about 28 KB), the
// latter two in GitHub's full payload shape (repository, organization and
// user objects with every URL field) from testdata/.
func Fixtures() []Fixture {
	fixed := func(name string) func(int) []byte {
		b, err := fixtureFS.ReadFile("testdata/" + name + ".json")
		if err != nil {
			panic(fmt.Sprintf("webhookload: fixture %s is not embedded: %v", name, err)) // a build defect
		}
		return func(int) []byte { return b }
	}
	return []Fixture{
		{Name: "installation_repositories", Event: "installation_repositories", Payload: InstallationRepositories},
		{Name: "issue_comment", Event: "issue_comment", Payload: fixed("issue_comment")},
		{Name: "pull_request", Event: "pull_request", Payload: fixed("pull_request")},
	}
}

// FixtureNamed returns the fixture called name, or false.
func FixtureNamed(name string) (Fixture, bool) {
	for _, f := range Fixtures() {
		if f.Name == name {
			return f, true
		}
	}
	return Fixture{}, false
}
