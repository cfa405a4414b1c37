package main

import (
	"embed"
	"io/fs"
)

// The binary carries its templates, static files and schema: one file to
// deploy.
//
//go:embed templates static schema.sql
var files embed.FS

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directories are embedded above: this cannot happen
	}
	return f
}

func schema() string {
	b, err := files.ReadFile("schema.sql")
	if err != nil {
		panic(err)
	}
	return string(b)
}
