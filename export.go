package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"plenary/library"
)

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
