package coverage

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	cov "github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// SummaryOptions is what `coverage summary` runs with.
type SummaryOptions struct {
	IO       *iostreams.IO
	Exporter factory.Exporter

	Paths []string
	// Format is --format, or "" to detect each file's.
	Format cov.Format
}

func newSummary(f *factory.Factory, runF func(context.Context, *SummaryOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "summary",
		Usage:     "Print the totals of coverage reports (locally, no relay)",
		ArgsUsage: "FILE...",
		Description: "Reads LCOV, Cobertura, JaCoCo, Clover, Go coverprofile and Istanbul JSON reports,\n" +
			"gzipped or not, detecting the format from the content unless --format names it.\n" +
			"--json prints the totals over all files: files, lines_found, lines_hit,\n" +
			"branches_found, branches_hit, percent (and statements_*/functions_* where counted).",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "read every FILE as `FORMAT`: lcov, cobertura, jacoco, clover, go or istanbul"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &SummaryOptions{IO: f.IO, Exporter: f.ExporterFor(cmd), Paths: cmd.Args().Slice()}
			if len(opts.Paths) == 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl coverage summary FILE...")
			}
			var err error
			if opts.Format, err = parseFormatFlag(cmd.String("format")); err != nil {
				return err
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return summaryRun(ctx, opts)
		},
	}
}

func summaryRun(ctx context.Context, opts *SummaryOptions) error {
	rows := make([]summaryRow, 0, len(opts.Paths))
	var total cov.Totals
	for _, p := range opts.Paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := summarise(p, opts.Format)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		total = total.Add(row.totals)
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(total)
	}
	tp := opts.IO.Table("FILE", "FORMAT", "FILES", "LINES", "BRANCHES", "STATEMENTS", "COVERAGE")
	add := func(name, format string, t cov.Totals) {
		tp.AddField(name)
		tp.AddField(format)
		tp.AddField(strconv.FormatInt(t.Files, 10))
		tp.AddField(ratio(t.LinesHit, t.LinesFound))
		tp.AddField(ratio(t.BranchesHit, t.BranchesFound))
		tp.AddField(ratio(t.StatementsHit, t.StatementsFound))
		tp.AddField(coverageText(t))
		tp.EndRow()
	}
	for _, r := range rows {
		add(r.path, string(r.format), r.totals)
	}
	if len(rows) > 1 {
		add("total", "", total)
	}
	return tp.Render()
}

type summaryRow struct {
	path   string
	format cov.Format
	totals cov.Totals
}

// summarise parses the report at path. The *os.File goes to Parse as it is:
// being seekable, it lets Parse read a large LCOV file twice instead of
// keeping a digest of every file in memory.
func summarise(path string, forced cov.Format) (summaryRow, error) {
	format := forced
	if format == "" {
		var err error
		if format, err = detect(path); err != nil {
			return summaryRow{}, err
		}
	}
	f, err := openReport(path)
	if err != nil {
		return summaryRow{}, err
	}
	defer f.Close()
	t, err := cov.Parse(f, format, nil)
	if err != nil {
		// ParseError's message names the format, line and fault and is
		// meant for the user; so are read errors of their own file.
		return summaryRow{}, patchpanda.Errorf(patchpanda.EINVALID, "%s: %v", path, err)
	}
	return summaryRow{path: path, format: format, totals: t}, nil
}

// ratio prints hit/found, or "-" when the report counts none.
func ratio(hit, found int64) string {
	if found == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", hit, found)
}

// coverageText prints the percent as the tools do, to one decimal, with what
// it is a percent of. A partly covered total never shows as 100.0%, nor a
// partly hit one as 0.0%.
func coverageText(t cov.Totals) string {
	of := "lines"
	hit, found := t.LinesHit, t.LinesFound
	// Statements is not in the JSON form: from the relay, tell by which
	// count the percent was taken from.
	if t.Statements || t.StatementsFound > 0 && math.Abs(t.Percent-100*float64(t.StatementsHit)/float64(t.StatementsFound)) < 1e-6 {
		of = "statements"
		hit, found = t.StatementsHit, t.StatementsFound
	}
	if found == 0 {
		return "-"
	}
	p := math.Round(t.Percent*10) / 10
	switch {
	case hit < found && p >= 100:
		p = 99.9
	case hit > 0 && p <= 0:
		p = 0.1
	}
	return fmt.Sprintf("%.1f%% of %s", p, of)
}
