package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
