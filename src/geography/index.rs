//! The geography in force (layers plus plan) and a point locator over it: an R-tree of
//! bounding boxes narrows each point to a few candidate areas, then an exact point-in-polygon
//! test decides. A locator for many points also grids each layer (see [`super::grid`]), so
//! most points need neither.

use std::collections::HashMap;

use geo::{BoundingRect, Coord, MultiPolygon};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::boundary::{Layer, Level};
use super::grid::{Cell, Grid};
use super::plan::{AreaPlan, Township};
use super::prepared::PreparedShape;

/// Everything doorstep knows about areas: the three layers and the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geography {
    pub wards: Option<Layer>,
    pub lsoas: Option<Layer>,
    pub paas: Option<Layer>,
    pub plan: Option<AreaPlan>,
    /// True for the built-in Wigan demo, so nobody mistakes it for a real plan.
    pub builtin: bool,
}

/// A code and name, as shown to people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
}

/// The areas containing one point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Located {
    pub township: Option<String>,
    pub ward: Option<AreaRef>,
    pub paa: Option<AreaRef>,
    pub lsoa: Option<AreaRef>,
}

impl Located {
    /// In no area of any layer.
    pub fn is_outside(&self) -> bool {
        self.ward.is_none() && self.paa.is_none() && self.lsoa.is_none()
    }
}

/// One township of the area tree, with its wards and their PAAs.
#[derive(Debug, Clone, PartialEq)]
pub struct TownshipNode {
    /// `None` gathers the wards no township lists.
    pub name: Option<String>,
    pub wards: Vec<WardNode>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WardNode {
    pub ward: AreaRef,
    pub paas: Vec<AreaRef>,
}

/// What an area code or name given on the command line refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum AreaSelection {
    Township(Township),
    Area { level: Level, area: AreaRef },
}

impl Geography {
    pub fn layer(&self, level: Level) -> Option<&Layer> {
        match level {
            Level::Ward => self.wards.as_ref(),
            Level::Lsoa => self.lsoas.as_ref(),
            Level::Paa => self.paas.as_ref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.wards.is_none() && self.lsoas.is_none() && self.paas.is_none() && self.plan.is_none()
    }

    /// The outline of an area in WGS84 (x = longitude, y = latitude), for maps.
    pub fn outline(&self, level: Level, code: &str) -> Option<&MultiPolygon<f64>> {
        self.layer(level)?.get(code).map(|a| &a.shape)
    }

    /// The ward a PAA belongs to, by the plan.
    pub fn paa_ward(&self, paa: &str) -> Option<&str> {
        self.plan.as_ref()?.paa(paa).map(|p| p.ward.as_str())
    }

    /// Township → ward → PAA, in plan order; wards in no township come last under `None`.
    pub fn tree(&self) -> Vec<TownshipNode> {
        let Some(wards) = &self.wards else {
            return Vec::new();
        };
        let plan = self.plan.as_ref();
        let paa_name = |code: &str| {
            self.paas
                .as_ref()
                .and_then(|l| l.get(code))
                .map(|a| a.name.clone())
        };
        let ward_node = |code: &str| -> WardNode {
            let name = wards.get(code).map(|a| a.name.clone()).unwrap_or_default();
            let paas = plan
                .map(|p| {
                    p.paas
                        .iter()
                        .filter(|paa| paa.ward == code)
                        .map(|paa| AreaRef {
                            code: paa.code.clone(),
                            name: paa_name(&paa.code).unwrap_or_else(|| paa.name.clone()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            WardNode {
                ward: AreaRef {
                    code: code.to_string(),
                    name,
                },
                paas,
            }
        };
        let mut nodes: Vec<TownshipNode> = plan
            .map(|p| {
                p.townships
                    .iter()
                    .map(|t| TownshipNode {
                        name: Some(t.name.clone()),
                        wards: t
                            .wards
                            .iter()
                            .filter(|w| wards.get(w).is_some())
                            .map(|w| ward_node(w))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut rest: Vec<&crate::geography::Area> = wards
            .areas
            .iter()
            .filter(|a| plan.and_then(|p| p.township_of(&a.code)).is_none())
            .collect();
        rest.sort_by(|a, b| a.name.cmp(&b.name));
        if !rest.is_empty() {
            nodes.push(TownshipNode {
                name: None,
                wards: rest.iter().map(|a| ward_node(&a.code)).collect(),
            });
        }
        nodes
    }

    /// Finds a township (by name), ward, PAA or LSOA (by code, or by exact name).
    pub fn select(&self, key: &str) -> Option<AreaSelection> {
        let key = key.trim();
        for level in [Level::Ward, Level::Paa, Level::Lsoa] {
            if let Some(a) = self.layer(level).and_then(|l| l.get(key)) {
                return Some(AreaSelection::Area {
                    level,
                    area: AreaRef {
                        code: a.code.clone(),
                        name: a.name.clone(),
                    },
                });
            }
        }
        if let Some(t) = self.plan.as_ref().and_then(|p| {
            p.townships
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(key))
        }) {
            return Some(AreaSelection::Township(t.clone()));
        }
        for level in [Level::Ward, Level::Paa, Level::Lsoa] {
            if let Some(a) = self
                .layer(level)
                .and_then(|l| l.areas.iter().find(|a| a.name.eq_ignore_ascii_case(key)))
            {
                return Some(AreaSelection::Area {
                    level,
                    area: AreaRef {
                        code: a.code.clone(),
                        name: a.name.clone(),
                    },
                });
            }
        }
        None
    }

    /// A locator over all layers.
    pub fn locator(&self) -> Locator {
        Locator::new(self)
    }

    /// A locator over all layers for many points (see [`Locator::from_layers_for_many`]).
    pub fn bulk_locator(&self) -> Locator {
        let layers = Level::ALL.iter().filter_map(|l| self.layer(*l));
        Locator::from_layers_for_many(layers, self.plan.as_ref())
    }

    /// A warning when the point (WGS84) is not in `area` (a PAA or ward code), naming where
    /// it does fall; `None` when it is inside, or when `area` is not in this geography (there
    /// is nothing to compare with).
    pub fn outside_warning(&self, area: &str, lon: f64, lat: f64) -> Option<String> {
        let (level, named) = [Level::Paa, Level::Ward].into_iter().find_map(|level| {
            self.layer(level)
                .and_then(|l| l.get(area))
                .map(|a| (level, format!("{} ({})", a.name, a.code)))
        })?;
        let found = self.locator().locate(lon, lat);
        let inside = match level {
            Level::Paa => found.paa.as_ref(),
            _ => found.ward.as_ref(),
        }
        .is_some_and(|a| a.code.eq_ignore_ascii_case(area));
        if inside {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(p) = &found.paa {
            parts.push(format!("PAA {} ({})", p.name, p.code));
        }
        if let Some(w) = &found.ward {
            parts.push(format!("ward {} ({})", w.name, w.code));
        }
        let falls = if parts.is_empty() {
            "in no ward this device knows".to_owned()
        } else {
            format!("in {}", parts.join(", "))
        };
        Some(format!(
            "That location is outside {named}: it falls {falls}. Kept as given; check it"
        ))
    }
}

struct Indexed {
    level: Level,
    area: AreaRef,
    shape: PreparedShape,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Point → containing areas. Built once, queried many times; owns its shapes so it can outlive
/// the [`Geography`] it came from.
pub struct Locator {
    areas: Vec<Indexed>,
    tree: RTree<Entry>,
    township_of_ward: HashMap<String, String>,
    /// Each level's grid, by `Level as usize`, in a locator for many points.
    grids: [Option<Grid>; 3],
}

impl Locator {
    pub fn new(geography: &Geography) -> Locator {
        let layers = Level::ALL.iter().filter_map(|l| geography.layer(*l));
        Self::from_layers(layers, geography.plan.as_ref())
    }

    /// A locator over the given layers only (e.g. just the LSOAs).
    pub fn from_layers<'a>(
        layers: impl IntoIterator<Item = &'a Layer>,
        plan: Option<&AreaPlan>,
    ) -> Locator {
        let mut areas = Vec::new();
        let mut entries = Vec::new();
        for layer in layers {
            for a in &layer.areas {
                let Some(rect) = a.shape.bounding_rect() else {
                    continue;
                };
                entries.push(GeomWithData::new(
                    Rectangle::from_corners(
                        [rect.min().x, rect.min().y],
                        [rect.max().x, rect.max().y],
                    ),
                    areas.len(),
                ));
                areas.push(Indexed {
                    level: layer.level,
                    area: AreaRef {
                        code: a.code.clone(),
                        name: a.name.clone(),
                    },
                    shape: PreparedShape::new(&a.shape),
                });
            }
        }
        let township_of_ward = plan
            .map(|p| {
                p.townships
                    .iter()
                    .flat_map(|t| t.wards.iter().map(move |w| (w.clone(), t.name.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Locator {
            areas,
            tree: RTree::bulk_load(entries),
            township_of_ward,
            grids: [None, None, None],
        }
    }

    /// A locator over the given layers for many points: each level's areas are also
    /// gridded, so a point in a cell that no boundary touches is answered by its cell. The
    /// answers are those of [`Locator::from_layers`]; the grids take some milliseconds to
    /// build, repaid after a few thousand points.
    pub fn from_layers_for_many<'a>(
        layers: impl IntoIterator<Item = &'a Layer>,
        plan: Option<&AreaPlan>,
    ) -> Locator {
        let layers: Vec<&Layer> = layers.into_iter().collect();
        let mut locator = Locator::from_layers(layers.iter().copied(), plan);
        for level in Level::ALL {
            let shapes = layers
                .iter()
                .filter(|l| l.level == level)
                .flat_map(|l| l.areas.iter().map(|a| &a.shape));
            locator.grids[level as usize] = Grid::new(shapes, |p| locator.exact(level, p));
        }
        locator
    }

    /// The index of the area of `level` containing `p`: by its level's grid when the grid
    /// can tell, by the shapes otherwise.
    fn area_at(&self, level: Level, p: Coord<f64>) -> Option<usize> {
        let by_grid = self.grids[level as usize].as_ref().map(|g| g.cell(p));
        match by_grid {
            Some(Cell::In(i)) => Some(i),
            Some(Cell::Outside) => None,
            Some(Cell::Edge) | None => self.exact(level, p),
        }
    }

    /// The index of the area of `level` containing `p`, by the shapes: the first in its
    /// layer when `p` is on an edge two share.
    fn exact(&self, level: Level, p: Coord<f64>) -> Option<usize> {
        let mut best: Option<usize> = None;
        for entry in self.tree.locate_all_at_point(&[p.x, p.y]) {
            let i = entry.data;
            if best.is_some_and(|b| b < i) {
                continue;
            }
            if let Some(area) = self.areas.get(i)
                && area.level == level
                && area.shape.intersects(p)
            {
                best = Some(i);
            }
        }
        best
    }

    /// The areas containing WGS84 `(lon, lat)`. A point on a shared edge goes to the area that
    /// comes first in its layer, so every point gets exactly one area per level.
    pub fn locate(&self, lon: f64, lat: f64) -> Located {
        let point = Coord { x: lon, y: lat };
        let pick = |level: Level| {
            self.area_at(level, point)
                .and_then(|i| self.areas.get(i))
                .map(|a| a.area.clone())
        };
        let ward = pick(Level::Ward);
        let township = ward
            .as_ref()
            .and_then(|w| self.township_of_ward.get(&w.code).cloned());
        Located {
            township,
            ward,
            paa: pick(Level::Paa),
            lsoa: pick(Level::Lsoa),
        }
    }

    /// The code of the area of `level` containing the point, without building names.
    pub fn locate_code(&self, level: Level, lon: f64, lat: f64) -> Option<&str> {
        self.area_at(level, Coord { x: lon, y: lat })
            .and_then(|i| self.areas.get(i))
            .map(|a| a.area.code.as_str())
    }
}

#[cfg(test)]
mod prepared_tests {
    use geo::Intersects;

    use super::*;

    /// The prepared shapes give every point the area `geo`'s own test gives it, on the
    /// built-in Wigan layers: random points, every vertex, and points on edges; and a
    /// locator for many points (gridded) gives every one the same areas.
    #[test]
    fn the_locator_agrees_with_geo_on_the_builtin_layers() -> Result<(), Box<dyn std::error::Error>>
    {
        let geography = crate::geography::builtin::geography()?;
        let locator = geography.locator();
        let bulk = geography.bulk_locator();
        assert!(
            bulk.grids[Level::Lsoa as usize].is_some()
                && bulk.grids[Level::Ward as usize].is_some()
        );
        let naive = |level: Level, p: Coord<f64>| -> Option<String> {
            geography
                .layer(level)?
                .areas
                .iter()
                .find(|a| a.shape.intersects(&p))
                .map(|a| a.code.clone())
        };
        let mut points = Vec::new();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..3000 {
            points.push(Coord {
                x: -2.74 + 0.33 * next(),
                y: 53.47 + 0.14 * next(),
            });
        }
        if let Some(layer) = geography.layer(Level::Lsoa) {
            for a in layer.areas.iter().take(40) {
                for poly in &a.shape.0 {
                    for line in poly.exterior().lines().take(50) {
                        points.push(line.start);
                        points.push(Coord {
                            x: (line.start.x + line.end.x) / 2.0,
                            y: (line.start.y + line.end.y) / 2.0,
                        });
                    }
                }
            }
        }
        let mut inside = 0;
        for p in &points {
            for &level in Level::ALL.iter() {
                let ours = locator.locate_code(level, p.x, p.y).map(str::to_owned);
                assert_eq!(ours, naive(level, *p), "{level:?} at {p:?}");
                let gridded = bulk.locate_code(level, p.x, p.y).map(str::to_owned);
                assert_eq!(gridded, ours, "gridded, {level:?} at {p:?}");
                inside += usize::from(ours.is_some());
            }
            assert_eq!(bulk.locate(p.x, p.y), locator.locate(p.x, p.y), "{p:?}");
        }
        assert!(inside > 1000, "the points fall in the areas: {inside}");
        Ok(())
    }

    proptest::proptest! {
        /// Anywhere in and around Wigan, the locator for many points gives the areas the
        /// one-point locator gives.
        #[test]
        fn the_gridded_locator_agrees_anywhere(lon in -2.80f64..-2.35, lat in 53.44f64..53.64) {
            let (one, bulk) = LOCATORS
                .as_ref()
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.clone()))?;
            proptest::prop_assert_eq!(bulk.locate(lon, lat), one.locate(lon, lat));
        }
    }

    type Locators = Result<(Locator, Locator), String>;
    static LOCATORS: std::sync::LazyLock<Locators> = std::sync::LazyLock::new(|| {
        let geography = crate::geography::builtin::geography().map_err(|e| e.to_string())?;
        Ok((geography.locator(), geography.bulk_locator()))
    });
}
