package command

// helpText is written for GitHub's markdown. Keep it in step with Parse and
// the golden file testdata/help.md.
const helpText = "### PatchPanda commands\n" +
	"\n" +
	"Start a line of a pull request comment with one of these:\n" +
	"\n" +
	"| command | what it does |\n" +
	"| --- | --- |\n" +
	"| `/patchpanda generate [PATH…] [--framework NAME]` | Write missing tests for this pull request: for the whole change, or only for the files and directories named. `--framework` picks the test framework when the repository's configuration does not. |\n" +
	"| `/patchpanda retry` | Run the last generation for this pull request again. |\n" +
	"| `/patchpanda cancel` | Cancel this pull request's queued or running generation. |\n" +
	"| `/patchpanda help` | Show this help. |\n" +
	"\n" +
	"- Quote a path that holds spaces: `/patchpanda generate \"docs/user guide\"`. Paths are relative to the repository root.\n" +
	"- Only the first command in a comment runs.\n" +
	"- Commands inside code blocks, quotes (`>`) and HTML comments are ignored, so you can show one without running it.\n"

// HelpText returns the markdown PatchPanda replies with to
// "/patchpanda help" and after a command it could not understand. It cannot
// fail.
func HelpText() string { return helpText }
