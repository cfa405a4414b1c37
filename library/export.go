package library

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// AllForExport returns every listed resource, in library order, and every
// demand with its supporting resources' ids.
func (s *Service) AllForExport(ctx context.Context) ([]Resource, []Demand, error) {
	var rs []Resource
	if err := s.db.R.SelectContext(ctx, &rs, `SELECT `+resourceColumns+` FROM resources WHERE status = 'listed' ORDER BY id`); err != nil {
		return nil, nil, fmt.Errorf("library: export resources: %w", err)
	}
	var ds []Demand
	if err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands ORDER BY id`); err != nil {
		return nil, nil, fmt.Errorf("library: export demands: %w", err)
	}
	var links []struct {
		Demand   int64 `db:"demand_id"`
		Resource int64 `db:"resource_id"`
	}
	if err := s.db.R.SelectContext(ctx, &links, `SELECT demand_id, resource_id FROM demand_resources ORDER BY demand_id, position`); err != nil {
		return nil, nil, fmt.Errorf("library: export demand resources: %w", err)
	}
	index := make(map[int64]int, len(ds))
	for i, d := range ds {
		index[d.ID] = i
	}
	for _, l := range links {
		if i, ok := index[l.Demand]; ok {
			ds[i].Resources = append(ds[i].Resources, l.Resource)
		}
	}
	return rs, ds, nil
}

// Export writes resources, and in our JSON demands too, in format (FileJSON,
// FileCSV or FileCSL). It writes what it is given, so the caller decides
// what may be seen. A demand's supporting resources are written as the
// links of those among rs, so a file always imports into an empty library
// and never names a resource the caller left out.
func (s *Service) Export(ctx context.Context, w io.Writer, format string, rs []Resource, ds []Demand) error {
	var err error
	switch format {
	case FileJSON:
		err = exportJSON(w, rs, ds)
	case FileCSV:
		err = exportCSV(w, rs)
	case FileCSL:
		err = exportCSL(w, rs)
	default:
		return ValidationError{"format": "Choose json, csv or csl."}
	}
	if err != nil {
		return fmt.Errorf("library: export %s: %w", format, err)
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
