//! The school: rooms on a 2-D plan, a timetable, and where everyone is at every minute.
//!
//! Times are minutes from 7:00 local (UTC+7), which is UTC midnight, so a school day is one UTC day:
//!
//! | minutes | where |
//! |---|---|
//! | 0-15 | arrival: a few minutes in the queue at the gate, then the classroom |
//! | 15-110 | lessons 1-2 in the classroom (5-minute change between them) |
//! | 110-130 | break in the yard, in groups of classmates |
//! | 130-225 | lessons 3-4 |
//! | 225-270 | lunch in the canteen, each class at its table |
//! | 270-390 | rest in the classroom (Vietnamese schools' midday nap) |
//! | 390-485 | lessons 5-6 |
//! | 485-500 | break in the yard |
//! | 500-545 | lesson 7 |
//! | 545-560 | departure through the gate |
//!
//! Students keep their seat (shared benches 0.6 m apart, rows 1.2 m apart). Teachers teach a few periods a
//! day in different classes, standing and moving at the front, and spend the rest in the staff room.
//! Positions are a pure function of (person, day, minute) and the seed, so every run with a seed sees the
//! same school.

use openzone_core::seeded::SplitMix64;

use crate::scenario::Scenario;

/// Minutes of the school day.
pub const DAY_MINUTES: u32 = 560;

/// Where someone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Room {
    /// Not at school (home, or isolating).
    Away,
    /// A classroom.
    Class(u32),
    /// The yard.
    Yard,
    /// The canteen.
    Canteen,
    /// The staff room.
    Staff,
    /// The gate area.
    Gate,
}

/// A rectangle of the plan, metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// West edge.
    pub x: f64,
    /// South edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Depth.
    pub h: f64,
}

/// Classroom size: 8 m wide, 9 m deep.
const CLASS_W: f64 = 8.0;
const CLASS_H: f64 = 9.0;
/// Classrooms per building wing (a row of rooms side by side).
const CLASSES_PER_WING: u32 = 10;

/// Someone's place at a minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// The room.
    pub room: Room,
    /// Position, metres.
    pub x: f64,
    /// Position, metres.
    pub y: f64,
}

impl Place {
    const AWAY: Place = Place {
        room: Room::Away,
        x: 0.0,
        y: 0.0,
    };

    /// Distance to another place (infinite when either is away).
    pub fn distance(&self, other: &Place) -> f64 {
        if self.room == Room::Away || other.room == Room::Away {
            return f64::INFINITY;
        }
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

/// The school's plan and timetable.
#[derive(Debug, Clone)]
pub struct School {
    students: u32,
    class_size: u32,
    classes: u32,
    teachers: u32,
    seed: u64,
    /// For each day, period (0-6) and class: the teacher.
    teaching: Vec<Vec<Vec<u32>>>,
    /// Cases stay away from this minute of this day on.
    absent_from: Vec<Option<(u32, u32)>>,
}

/// Lesson periods (start, end) in minutes.
const PERIODS: [(u32, u32); 7] = [
    (15, 60),
    (65, 110),
    (130, 175),
    (180, 225),
    (390, 435),
    (440, 485),
    (500, 545),
];

/// Stable pseudo-randomness from the seed and a few coordinates.
fn hash(seed: u64, parts: &[u64]) -> SplitMix64 {
    let mut rng = SplitMix64::new(seed);
    let mut h = rng.next_u64();
    for p in parts {
        h = SplitMix64::new(h ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64();
    }
    SplitMix64::new(h)
}

impl School {
    /// The school of a scenario.
    pub fn new(s: &Scenario) -> Self {
        let classes = s.classes();
        let mut teaching = Vec::new();
        for day in 0..s.days {
            let mut periods = Vec::new();
            for period in 0..PERIODS.len() as u32 {
                // Each period, classes get distinct teachers (as many as there are), shuffled daily.
                let mut order: Vec<u32> = (0..s.teachers.max(1)).collect();
                let mut rng = hash(s.seed, &[1, u64::from(day), u64::from(period)]);
                for i in (1..order.len()).rev() {
                    let j = rng.between(0, i as u64) as usize;
                    order.swap(i, j);
                }
                periods.push(
                    (0..classes)
                        .map(|c| order[c as usize % order.len()])
                        .collect(),
                );
            }
            teaching.push(periods);
        }
        Self {
            students: s.students,
            class_size: s.class_size,
            classes,
            teachers: s.teachers,
            seed: s.seed,
            teaching,
            absent_from: vec![None; (s.students + s.teachers) as usize],
        }
    }

    /// People in all.
    pub fn people(&self) -> u32 {
        self.students + self.teachers
    }

    /// Whether `person` is a student.
    pub fn is_student(&self, person: u32) -> bool {
        person < self.students
    }

    /// A student's class.
    pub fn class_of(&self, person: u32) -> Option<u32> {
        self.is_student(person).then_some(person / self.class_size)
    }

    /// Classes.
    pub fn classes(&self) -> u32 {
        self.classes
    }

    /// Keeps `person` away from minute `minute` of day `day` on (a case isolating after the report).
    pub fn send_home(&mut self, person: u32, day: u32, minute: u32) {
        if let Some(a) = self.absent_from.get_mut(person as usize) {
            *a = Some((day, minute));
        }
    }

    fn absent(&self, person: u32, day: u32, minute: u32) -> bool {
        self.absent_from
            .get(person as usize)
            .copied()
            .flatten()
            .is_some_and(|(d, m)| (day, minute) >= (d, m))
    }

    /// A room's rectangle on the plan.
    pub fn rect(&self, room: Room) -> Rect {
        match room {
            Room::Class(c) => {
                let wing = c / CLASSES_PER_WING;
                let slot = c % CLASSES_PER_WING;
                Rect {
                    x: f64::from(slot) * CLASS_W,
                    y: f64::from(wing) * (CLASS_H + 30.0),
                    w: CLASS_W,
                    h: CLASS_H,
                }
            }
            Room::Yard => {
                // 60 m by 40 m for the default 640 people (3.75 m² each), growing with the school.
                let scale = (f64::from(self.people()) / 640.0).max(1.0).sqrt();
                Rect {
                    x: 0.0,
                    y: -5.0 - 40.0 * scale,
                    w: 60.0 * scale,
                    h: 40.0 * scale,
                }
            }
            Room::Canteen => Rect {
                x: 90.0,
                y: 0.0,
                w: 30.0,
                h: 20.0 + 4.0 * f64::from(self.classes.saturating_sub(20) / 2),
            },
            Room::Staff => Rect {
                x: 90.0,
                y: -20.0,
                w: 12.0,
                h: 10.0,
            },
            Room::Gate => Rect {
                x: 30.0,
                y: -60.0,
                w: 10.0,
                h: 10.0,
            },
            Room::Away => Rect {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
            },
        }
    }

    /// Walls between two rooms: none within a room, one between neighbouring classrooms or between a
    /// room and the open yard, two beyond.
    pub fn walls_between(&self, a: Room, b: Room) -> u32 {
        match (a, b) {
            _ if a == b => 0,
            (Room::Class(x), Room::Class(y))
                if x / CLASSES_PER_WING == y / CLASSES_PER_WING && x.abs_diff(y) == 1 =>
            {
                1
            }
            (Room::Yard, _) | (_, Room::Yard) | (Room::Gate, _) | (_, Room::Gate) => 1,
            _ => 2,
        }
    }

    /// Where `person` is at `minute` of day `day` (0-based).
    pub fn place(&self, person: u32, day: u32, minute: u32) -> Place {
        if minute >= DAY_MINUTES || self.absent(person, day, minute) {
            return Place::AWAY;
        }
        let mut rng = hash(
            self.seed,
            &[2, u64::from(person), u64::from(day), u64::from(minute)],
        );
        // Arrival and departure: everyone spends a few minutes at the gate.
        let arrival =
            hash(self.seed, &[3, u64::from(person), u64::from(day)]).between(0, 12) as u32;
        if minute < arrival {
            return Place::AWAY;
        }
        if minute < arrival + 3 || minute >= 545 + arrival.min(10) {
            if minute >= 545 + arrival.min(10) + 4 {
                return Place::AWAY;
            }
            return self.queue(person, Room::Gate, &mut rng);
        }
        if self.is_student(person) {
            self.student_place(person, day, minute, &mut rng)
        } else {
            self.teacher_place(person - self.students, day, minute, &mut rng)
        }
    }

    fn student_place(&self, person: u32, day: u32, minute: u32, rng: &mut SplitMix64) -> Place {
        let class = person / self.class_size;
        match minute {
            110..130 | 485..500 => self.yard(person, day, minute, rng),
            225..270 => self.canteen_seat(class, person % self.class_size, rng),
            _ => self.seat(class, person % self.class_size, rng),
        }
    }

    fn teacher_place(&self, teacher: u32, day: u32, minute: u32, rng: &mut SplitMix64) -> Place {
        let period = PERIODS.iter().position(|(a, b)| (*a..*b).contains(&minute));
        if let Some(p) = period {
            if let Some(class) = self.teaching[day as usize][p]
                .iter()
                .position(|t| *t == teacher)
            {
                // At the front: the board, the first desks.
                let r = self.rect(Room::Class(class as u32));
                return Place {
                    room: Room::Class(class as u32),
                    x: r.x + 1.0 + rng.unit() * (r.w - 2.0),
                    y: r.y + 0.3 + rng.unit() * 1.5,
                };
            }
        }
        if (225..270).contains(&minute) {
            let r = self.rect(Room::Canteen);
            let seat = f64::from(teacher);
            return Place {
                room: Room::Canteen,
                x: r.x + 1.0 + (seat % 20.0) * 0.7 + jitter(rng, 0.1),
                y: r.y + r.h - 1.5 - (seat / 20.0).floor() * 0.9,
            };
        }
        let r = self.rect(Room::Staff);
        let cols = 6.0;
        Place {
            room: Room::Staff,
            x: r.x + 1.0 + (f64::from(teacher) % cols) * 1.7 + jitter(rng, 0.3),
            y: r.y + 1.0 + (f64::from(teacher) / cols).floor() * 1.3 + jitter(rng, 0.3),
        }
    }

    /// A student's seat: benches of two, 0.6 m apart on a bench, 1.2 m between benches and rows.
    fn seat(&self, class: u32, index: u32, rng: &mut SplitMix64) -> Place {
        let r = self.rect(Room::Class(class));
        let bench = index / 2;
        let (row, col) = (bench / 3, bench % 3);
        Place {
            room: Room::Class(class),
            x: r.x + 1.2 + f64::from(col) * 2.2 + f64::from(index % 2) * 0.6 + jitter(rng, 0.1),
            y: r.y + 2.5 + f64::from(row) * 1.2 + jitter(rng, 0.1),
        }
    }

    /// A class's canteen table: two facing rows, 0.7 m apart along a row, 0.8 m across.
    fn canteen_seat(&self, class: u32, index: u32, rng: &mut SplitMix64) -> Place {
        let r = self.rect(Room::Canteen);
        let table_x = r.x + 1.0 + f64::from(class % 2) * 14.0;
        let table_y = r.y + 1.0 + f64::from(class / 2) * 2.0;
        Place {
            room: Room::Canteen,
            x: table_x + f64::from(index / 2) * 0.7 + jitter(rng, 0.1),
            y: table_y + f64::from(index % 2) * 0.8,
        }
    }

    /// The yard: groups of about five classmates around a spot that moves every five minutes.
    fn yard(&self, person: u32, day: u32, minute: u32, rng: &mut SplitMix64) -> Place {
        let r = self.rect(Room::Yard);
        let class = person / self.class_size;
        // Groups re-form every break; the spot moves every five minutes.
        let mut groups = hash(
            self.seed,
            &[4, u64::from(day), u64::from(minute / 100), u64::from(class)],
        );
        let group = (u64::from(person % self.class_size) + groups.between(0, 5)) / 5;
        let mut spot = hash(
            self.seed,
            &[
                5,
                u64::from(day),
                u64::from(minute / 5),
                u64::from(class),
                group,
            ],
        );
        let (cx, cy) = (
            r.x + 2.0 + spot.unit() * (r.w - 4.0),
            r.y + 2.0 + spot.unit() * (r.h - 4.0),
        );
        let angle = rng.unit() * std::f64::consts::TAU;
        let radius = 0.5 + rng.unit() * 1.2;
        Place {
            room: Room::Yard,
            x: cx + radius * angle.cos(),
            y: cy + radius * angle.sin(),
        }
    }

    /// A queue at the gate: a random spot in a small crowded area.
    fn queue(&self, _person: u32, room: Room, rng: &mut SplitMix64) -> Place {
        let r = self.rect(room);
        Place {
            room,
            x: r.x + rng.unit() * r.w,
            y: r.y + rng.unit() * r.h,
        }
    }
}

fn jitter(rng: &mut SplitMix64, amplitude: f64) -> f64 {
    (rng.unit() * 2.0 - 1.0) * amplitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone_is_somewhere_sensible_all_day() {
        let scenario = Scenario {
            students: 90,
            teachers: 6,
            days: 2,
            ..Scenario::default()
        };
        let school = School::new(&scenario);
        for person in 0..school.people() {
            for minute in (0..DAY_MINUTES).step_by(7) {
                let place = school.place(person, 1, minute);
                if place.room == Room::Away {
                    continue;
                }
                let r = school.rect(place.room);
                assert!(
                    place.x >= r.x - 2.0 && place.x <= r.x + r.w + 2.0,
                    "{person} {minute} {place:?}"
                );
                assert!(
                    place.y >= r.y - 2.0 && place.y <= r.y + r.h + 2.0,
                    "{person} {minute} {place:?}"
                );
            }
        }
        assert_eq!(school.place(0, 0, 60).room, Room::Class(0));
        assert_eq!(school.place(0, 0, 120).room, Room::Yard);
        assert_eq!(school.place(0, 0, 240).room, Room::Canteen);
        assert_eq!(school.place(0, 0, 700).room, Room::Away);
    }

    #[test]
    fn deskmates_are_close_and_classes_apart() {
        let school = School::new(&Scenario::default());
        let a = school.place(0, 0, 60);
        let b = school.place(1, 0, 60);
        let far = school.place(29, 0, 60);
        assert!(a.distance(&b) < 1.0);
        assert!(a.distance(&far) > 2.0);
        let other_class = school.place(30, 0, 60);
        assert_eq!(school.walls_between(a.room, other_class.room), 1);
        assert!(a.distance(&other_class) > 2.0);
    }

    #[test]
    fn cases_go_home_and_positions_are_reproducible() {
        let mut school = School::new(&Scenario::default());
        let before = school.place(5, 2, 300);
        assert_eq!(School::new(&Scenario::default()).place(5, 2, 300), before);
        school.send_home(5, 2, 180);
        assert_eq!(school.place(5, 2, 179).room, Room::Class(0));
        assert_eq!(school.place(5, 2, 300).room, Room::Away);
        assert_eq!(school.place(5, 3, 60).room, Room::Away);
    }

    #[test]
    fn every_class_has_a_teacher_each_period() {
        let school = School::new(&Scenario::default());
        for minute in [20, 140, 400, 520] {
            let teachers_in_class = (school.students..school.people())
                .filter(|&p| matches!(school.place(p, 0, minute).room, Room::Class(_)))
                .count();
            assert_eq!(
                teachers_in_class as u32,
                school.classes(),
                "minute {minute}"
            );
        }
    }
}
