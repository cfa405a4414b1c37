package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"plenary/library"
)

func importLibrary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("import [-db FILE] FILE", "Import resources (and, from Plenary JSON, demands) into the library.\n\n"+
		"FILE is Plenary's own JSON (as \"plenary export\" writes it), a Zotero CSV export, or CSL-JSON\n"+
		"(Zotero's \"CSL JSON\" export, or Pandoc's); the format is told from the content.\n"+
		"Every row is checked first: if any is wrong, each is listed and nothing is imported.\n"+
		"Resources come in listed (our JSON may say pending or hidden). A resource whose link or DOI\n"+
		"is already in the library updates its details, unless a ballot endorsed it or a proposal about\n"+
		"it is open (then it is skipped, unchanged); one whose title is already there is skipped.\n"+
		"Nothing is ever imported as endorsed: only a ballot endorses.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	file := fs.Arg(0)
	data, err := readImportFile(file)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := library.New(d, time.Now).Import(ctx, data)
	var invalid library.ValidationError
	switch {
	case errors.Is(err, library.ErrRejected):
		for _, e := range rep.Rejected {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintln(stderr, "Nothing was imported.")
		return fmt.Errorf("import of %s rejected", file)
	case errors.As(err, &invalid) && invalid["file"] != "":
		fmt.Fprintf(stderr, "%s: %s\nNothing was imported.\n", file, invalid["file"])
		return fmt.Errorf("import of %s rejected", file)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "Imported %s from %s: %d added, %d updated, %d duplicates skipped, %d demands added.\n",
		rep.Format, file, rep.Added, rep.Updated, rep.Duplicates, rep.DemandsAdded)
	if rep.Endorsed > 0 {
		fmt.Fprintf(stdout, "%d endorsed resources were skipped and left unchanged: only a ballot changes what members endorsed.\n", rep.Endorsed)
	}
	if rep.UnderBallot > 0 {
		fmt.Fprintf(stdout, "%d resources were skipped and left unchanged: a proposal about each is open; import again after the ballot.\n", rep.UnderBallot)
	}
	if rep.DemandsSkipped > 0 {
		fmt.Fprintf(stdout, "%d demands were skipped: the register already has a demand with the same title.\n", rep.DemandsSkipped)
	}
	return nil
}

// readImportFile reads at most one byte more than an import may hold, so a
// huge file is refused without being read whole.
func readImportFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, library.MaxImportBytes+1))
}

func exportLibrary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("export [-db FILE] -format json|csv|csl [-o FILE]", "Export the library's listed resources.\n\n"+
		"json is Plenary's own format, with every demand too; \"plenary import\" reads it back.\n"+
		"csv has Zotero's column names (with a byte order mark, so Excel reads it as UTF-8).\n"+
		"csl is CSL-JSON, which Zotero imports and Pandoc and other citation tools read.", stderr, &cfg)
	format := fs.String("format", library.FileJSON, "json, csv or csl")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if _, ok := library.FileFormatNames[*format]; !ok {
		fmt.Fprintf(stderr, "plenary export: -format must be json, csv or csl, not %q\n", *format)
		return errUsage
	}
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	lib := library.New(d, time.Now)
	rs, ds, err := lib.AllForExport(ctx)
	if err != nil {
		return err
	}
	if *format != library.FileJSON {
		ds = nil
	}
	if *out == "" {
		return lib.Export(ctx, stdout, *format, rs, ds)
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return lib.Export(ctx, w, *format, rs, ds) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d resources and %d demands as %s to %s.\n", len(rs), len(ds), library.FileFormatNames[*format], *out)
	return nil
}

// writeAtomically writes a file beside name and renames it into place, so a
// failed export never leaves half a file where a good one was.
func writeAtomically(name string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".plenary-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename there is nothing to remove
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
