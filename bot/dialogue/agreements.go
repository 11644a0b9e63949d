package dialogue

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/impbot/impbot/knowledge"
)

// Agreement is one trade agreement's coverage, as data: who it covers
// (citizens of a country group, and permanent residents where it says so)
// and in which categories, each with the official page it comes from.
// The rules implement this coverage; the tests check that they do.
type Agreement struct {
	ID                 string
	Name               Text
	Group              string // country group (citizens)
	PermanentResidents bool
	Source             string
	Categories         []*Category
	Line               int
}

// Category is one category of business persons an agreement covers.
type Category struct {
	Kind string // professionals, technicians, transferees, investors, traders, contract_service_suppliers, independent_professionals
	// Occupations says which jobs: "listed" (a closed list of professions),
	// "not_excluded" (professional jobs except an exclusion list),
	// "teer" (any occupation of the given TEER levels), or "any".
	Occupations string
	TEER        []string
	Codes       []string
	Outcome     string
	Source      string
	Note        Text
	Line        int
}

// CategoryKinds are the categories an agreement may cover.
var CategoryKinds = []string{"professionals", "technicians", "transferees", "investors", "traders", "contract_service_suppliers", "independent_professionals"}

var occupationKinds = []string{"listed", "not_excluded", "teer", "any"}

func (p *parser) agreement(n *yaml.Node) *Agreement {
	m := p.mapping(n, "an agreement", "id", "name", "group", "permanent_residents", "source", "categories")
	if m == nil {
		return nil
	}
	a := &Agreement{Line: n.Line}
	a.ID, _ = p.scalar(m["id"], "id")
	if !nameRE.MatchString(a.ID) {
		p.add(n.Line, "agreement id %q must be lower-case letters, digits and _", a.ID)
	}
	a.Name = p.text(m["name"], "the name of agreement "+a.ID)
	a.Group, _ = p.scalar(m["group"], "group")
	if v, ok := p.scalar(m["permanent_residents"], "permanent_residents"); ok {
		a.PermanentResidents = v == "true" || v == "yes"
	}
	a.Source, _ = p.scalar(m["source"], "source")
	for _, cn := range p.list(m["categories"], "categories") {
		cm := p.mapping(cn, "a category", "category", "occupations", "teer", "codes", "outcome", "source", "note")
		if cm == nil {
			continue
		}
		c := &Category{Line: cn.Line}
		c.Kind, _ = p.scalar(cm["category"], "category")
		if !contains(CategoryKinds, c.Kind) {
			p.add(cn.Line, "agreement %s: category %q is not one of %s", a.ID, c.Kind, strings.Join(CategoryKinds, ", "))
		}
		c.Occupations, _ = p.scalar(cm["occupations"], "occupations")
		if c.Occupations == "" {
			c.Occupations = "any"
		}
		if !contains(occupationKinds, c.Occupations) {
			p.add(cn.Line, "agreement %s: occupations %q is not one of %s", a.ID, c.Occupations, strings.Join(occupationKinds, ", "))
		}
		c.TEER = p.strings(cm["teer"], "teer")
		if c.Occupations == "teer" && len(c.TEER) == 0 {
			p.add(cn.Line, "agreement %s: occupations: teer needs the TEER levels", a.ID)
		}
		c.Codes = p.strings(cm["codes"], "codes")
		c.Outcome, _ = p.scalar(cm["outcome"], "outcome")
		c.Source, _ = p.scalar(cm["source"], "source")
		c.Note = p.text(cm["note"], "note")
		a.Categories = append(a.Categories, c)
	}
	if len(a.Categories) == 0 {
		p.add(n.Line, "agreement %s has no categories", a.ID)
	}
	return a
}

// officialSource reports whether u is an official Government of Canada page.
func officialSource(u string) bool {
	for _, pre := range []string{"https://www.canada.ca/", "https://www.international.gc.ca/"} {
		if strings.HasPrefix(u, pre) {
			return true
		}
	}
	return false
}

func (p *parser) validateAgreements(r *Rules, base *knowledge.Base) {
	seen := map[string]bool{}
	for _, a := range r.Agreements {
		if seen[a.ID] {
			p.add(a.Line, "duplicate agreement %q", a.ID)
		}
		seen[a.ID] = true
		if r.Groups[a.Group] == nil {
			p.add(a.Line, "agreement %s: unknown group %q", a.ID, a.Group)
		}
		if !officialSource(a.Source) {
			p.add(a.Line, "agreement %s: source must be an official canada.ca or international.gc.ca page, not %q", a.ID, a.Source)
		}
		for _, c := range a.Categories {
			if c.Source != "" && !officialSource(c.Source) {
				p.add(c.Line, "agreement %s: category source must be an official page, not %q", a.ID, c.Source)
			}
			if c.Outcome == "" {
				p.add(c.Line, "agreement %s: category %s has no outcome", a.ID, c.Kind)
			} else if !contains(r.Outcomes(), c.Outcome) {
				p.add(c.Line, "agreement %s: outcome %q is not the outcome of any rule", a.ID, c.Outcome)
			}
			for _, t := range c.TEER {
				if f := r.facts["teer"]; f != nil && !f.hasValue(t) {
					p.add(c.Line, "agreement %s: unknown TEER %q", a.ID, t)
				}
			}
		}
	}
}

// Agreement returns the agreement with this id, or nil.
func (r *Rules) Agreement(id string) *Agreement {
	for _, a := range r.Agreements {
		if a.ID == id {
			return a
		}
	}
	return nil
}
