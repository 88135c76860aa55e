//! The key table: the one place where keys become actions. The help line and the help
//! screen are generated from the same table, so they can never disagree with what a key does.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// What the focused screen is doing decides what a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Menus and lists: digits pick, letters are commands (home).
    Menu,
    /// The drafts list: a menu whose drafts can be discarded.
    Drafts,
    /// A question asking to confirm: y does it, n or Esc changes nothing.
    Confirm,
    /// Typing into a field: letters and digits are text.
    Text,
    /// A plain form (first run, a new door): typing, with no interview keys.
    Form,
    /// A single-choice question: digits pick, letters filter long lists.
    Choice,
    /// Several choices: space or a digit toggles, letters filter.
    Multi,
    /// Ranking: digits add items in order.
    Rank,
    /// A note in an interview: nothing to answer.
    Note,
    /// The review screen before finalizing.
    Review,
    /// The door log of an area.
    DoorLog,
    /// The EVA checklist table.
    Checklist,
    /// Self-completion: the screen that asks to turn the laptop round, or to hand it back.
    Handover,
    /// A long list to pick from by typing to filter (the area picker).
    Picker,
    /// Work running or finished (an export): Enter or Esc goes back.
    Outcome,
    /// The coordinator's list of batch files: merge, conflicts.
    Batches,
    /// One conflict side by side: a letter keeps that version.
    Conflict,
    /// The report screen choosing period, level and area.
    ReportChoose,
    /// The report screen showing an area's pack.
    Report,
    /// The action register: filters, add, update, open the finding or the priority.
    Actions,
    /// One action with its history.
    ActionShow,
    /// The form adding or updating an action: ↑↓ between fields, Tab picks a choice.
    ActionForm,
    /// The help overlay: any key closes it.
    Help,
}

/// Which keys a binding matches.
#[derive(Debug, Clone, Copy)]
pub enum Keys {
    Code(KeyCode),
    Ctrl(char),
    /// Any digit 0–9, as [`Action::Digit`].
    Digits,
    /// Any printable character without Ctrl/Alt, as [`Action::Char`].
    Chars,
}

pub struct Binding {
    pub modes: &'static [Mode],
    pub keys: Keys,
    pub action: Action,
    /// Shown on the help line (short) and help screen.
    pub label: &'static str,
    pub help: &'static str,
    /// The word on the key hint line at the foot of the screen (empty: not shown there).
    pub hint: &'static str,
}

use Mode::*;

const QUESTION: &[Mode] = &[Text, Choice, Multi, Rank, Note];
const ALL: &[Mode] = &[
    Menu,
    Drafts,
    Picker,
    Text,
    Form,
    Choice,
    Multi,
    Rank,
    Note,
    Review,
    DoorLog,
    Checklist,
    Handover,
    Outcome,
    Batches,
    Conflict,
    ReportChoose,
    Report,
    Actions,
    ActionShow,
    ActionForm,
];
const PICKING: &[Mode] = &[
    Menu,
    Drafts,
    Picker,
    Choice,
    Multi,
    Review,
    DoorLog,
    Checklist,
    Outcome,
    Batches,
    Conflict,
    ReportChoose,
    Report,
    Actions,
    ActionShow,
];

macro_rules! bind {
    ($modes:expr, $keys:expr, $action:expr, $label:expr, $help:expr, $hint:expr) => {
        Binding {
            modes: $modes,
            keys: $keys,
            action: $action,
            label: $label,
            help: $help,
            hint: $hint,
        }
    };
}

/// Order matters: the first binding that matches wins, and hints appear in this order.
#[rustfmt::skip]
pub static BINDINGS: &[Binding] = &[
    bind!(&[Help], Keys::Chars, Action::Leave, "any key", "close this help", "close"),
    bind!(&[Help], Keys::Code(KeyCode::Esc), Action::Leave, "Esc", "close this help", ""),
    bind!(&[Help], Keys::Code(KeyCode::Enter), Action::Leave, "Enter", "close this help", ""),
    bind!(&[Confirm], Keys::Code(KeyCode::Char('y')), Action::Yes, "y", "yes, go ahead", "yes"),
    bind!(&[Confirm], Keys::Code(KeyCode::Char('n')), Action::Leave, "n", "no, change nothing", "no"),
    bind!(&[Confirm], Keys::Code(KeyCode::Esc), Action::Leave, "Esc", "no, change nothing", ""),
    bind!(&[Confirm], Keys::Ctrl('c'), Action::Quit, "^C", "quit (everything is saved)", ""),
    bind!(&[Choice, Menu, Drafts], Keys::Digits, Action::Digit(0), "1-9", "pick that item", "pick"),
    bind!(&[Multi], Keys::Digits, Action::Digit(0), "1-9", "tick or untick that item", "tick"),
    bind!(&[Rank], Keys::Digits, Action::Digit(0), "1-9", "rank that item next", "rank next"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('n')), Action::NoAnswer, "n", "no answer at this door", "no answer"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('r')), Action::Refused, "r", "refused", "refused"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('c')), Action::CallBack, "c", "call back (asks when)", "call back"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('i')), Action::Interview, "i", "start the interview", "interview"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('x')), Action::NotApplicable, "x", "not applicable (empty, not residential)", "n/a"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('a')), Action::NewDoor, "a", "add a door (street and number)", "add door"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('e')), Action::EditDoor, "e", "correct this door's street or number", "edit"),
    bind!(&[DoorLog], Keys::Code(KeyCode::Char('d')), Action::RemoveDoor, "d", "remove this door, entered by mistake (asks first)", "remove"),
    bind!(&[Drafts], Keys::Code(KeyCode::Char('d')), Action::Discard, "d", "discard this draft: kept as abandoned (asks first)", "discard"),
    bind!(&[Menu], Keys::Code(KeyCode::Char('o')), Action::ChangeOfficer, "o", "change officer (shift change)", "officer"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('a')), Action::Grade('A'), "a-d", "grade A, B, C or D", "grade"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('b')), Action::Grade('B'), "b", "grade B", ""),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('c')), Action::Grade('C'), "c", "grade C", ""),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('d')), Action::Grade('D'), "d", "grade D", ""),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('+')), Action::GradePlus, "+/-", "B+ / B- / C-", "plus/minus"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('-')), Action::GradeMinus, "-", "B- or C-", ""),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('y')), Action::Char('y'), "y", "yes on a yes/no item (0 = no)", "yes"),
    bind!(&[Checklist], Keys::Digits, Action::Digit(0), "0-9", "type a count", "count"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('u')), Action::Urgent, "u", "flag urgent", "urgent"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('n')), Action::Note, "n", "add a note", "note"),
    bind!(&[Checklist], Keys::Code(KeyCode::Char('l')), Action::Location, "l", "fixed-reference location", "location"),
    bind!(&[Batches], Keys::Code(KeyCode::Char('m')), Action::Merge, "m", "merge the verified batch files new to this machine", "merge"),
    bind!(&[Batches], Keys::Code(KeyCode::Char('c')), Action::Conflicts, "c", "list the unresolved conflicts", "conflicts"),
    bind!(&[ReportChoose], Keys::Code(KeyCode::Left), Action::PeriodPrev, "←→", "the period before / after", "period"),
    bind!(&[ReportChoose], Keys::Code(KeyCode::Right), Action::PeriodNext, "→", "the period after", ""),
    bind!(&[ReportChoose], Keys::Code(KeyCode::Tab), Action::NextLevel, "Tab", "next level: township, ward, PAA", "level"),
    bind!(&[Report], Keys::Code(KeyCode::Char('i')), Action::ToggleInternal, "i", "internal view (nothing suppressed, NOT FOR PUBLICATION) or public", "internal"),
    bind!(&[Report], Keys::Code(KeyCode::Char('f')), Action::NextFormat, "f", "next export format: md, html, json, csv, geojson, xlsx", "format"),
    bind!(&[Report], Keys::Code(KeyCode::Char('x')), Action::ExportPack, "x", "export the pack to a folder, as a background job", "export"),
    bind!(&[Report], Keys::Code(KeyCode::Home), Action::CursorHome, "Home", "back to the top of the pack", ""),
    bind!(&[Actions], Keys::Code(KeyCode::Char('a')), Action::AddAction, "a", "add an action (a form; nothing stored until it is valid)", "add"),
    bind!(&[Actions, ActionShow], Keys::Code(KeyCode::Char('u')), Action::UpdateAction, "u", "update this action: status, note, outcome, public line, evidence", "update"),
    bind!(&[Actions, ActionShow], Keys::Code(KeyCode::Char('f')), Action::OpenFinding, "f", "the EVA finding this action answers", "finding"),
    bind!(&[Actions, ActionShow], Keys::Code(KeyCode::Char('p')), Action::OpenPriority, "p", "the priority it serves, with the other actions serving it", "priority"),
    bind!(&[Actions], Keys::Code(KeyCode::Char('w')), Action::FilterArea, "w/s/g", "w area, s status, g agency filters: the next on each press", "filter"),
    bind!(&[Actions], Keys::Code(KeyCode::Char('s')), Action::FilterStatus, "s", "filter by status: the next one, then all", ""),
    bind!(&[Actions], Keys::Code(KeyCode::Char('g')), Action::FilterAgency, "g", "filter by agency (leads or supports): the next one, then all", ""),
    bind!(&[Actions], Keys::Code(KeyCode::Char('c')), Action::ClearFilters, "c", "clear the filters", ""),
    bind!(&[ActionForm], Keys::Code(KeyCode::Tab), Action::NextOption, "Tab", "next choice of a choice field (area, issue, status)", "choose"),
    bind!(&[ActionForm], Keys::Code(KeyCode::BackTab), Action::PrevOption, "⇧Tab", "previous choice", ""),
    bind!(&[Review], Keys::Code(KeyCode::Char('f')), Action::Finalize, "f", "finalize the interview", "finalize"),
    bind!(&[Review], Keys::Code(KeyCode::Char('c')), Action::Continue, "c", "continue at the first unanswered question", "continue"),
    bind!(&[Multi], Keys::Code(KeyCode::Char(' ')), Action::Toggle, "Space", "tick or untick the highlighted item", "tick"),
    bind!(ALL, Keys::Code(KeyCode::Up), Action::Up, "↑↓", "move", "move"),
    bind!(ALL, Keys::Code(KeyCode::Down), Action::Down, "↓", "move down", ""),
    bind!(ALL, Keys::Code(KeyCode::PageUp), Action::PageUp, "PgUp", "page up", ""),
    bind!(ALL, Keys::Code(KeyCode::PageDown), Action::PageDown, "PgDn", "page down", ""),
    bind!(ALL, Keys::Code(KeyCode::Enter), Action::Confirm, "Enter", "confirm / open", "ok"),
    bind!(&[Choice, Multi, Rank, Note], Keys::Code(KeyCode::Left), Action::Back, "←", "previous question (its answer stays until you change it)", "back"),
    bind!(&[Text], Keys::Code(KeyCode::BackTab), Action::Back, "⇧Tab", "previous question (its answer stays until you change it)", "back"),
    bind!(&[Choice, Multi, Rank, Note], Keys::Code(KeyCode::BackTab), Action::Back, "⇧Tab", "previous question", ""),
    bind!(&[Choice, Multi, Review], Keys::Code(KeyCode::Home), Action::CursorHome, "Home/End", "first / last item of the list", ""),
    bind!(&[Choice, Multi, Review], Keys::Code(KeyCode::End), Action::CursorEnd, "End", "last item of the list", ""),
    bind!(&[Text, Form, ActionForm], Keys::Code(KeyCode::Left), Action::CursorLeft, "←→", "move the cursor", ""),
    bind!(&[Text, Form, ActionForm], Keys::Code(KeyCode::Right), Action::CursorRight, "→", "move the cursor", ""),
    bind!(&[Text, Form, ActionForm], Keys::Code(KeyCode::Home), Action::CursorHome, "Home", "start of the text", ""),
    bind!(&[Text, Form, ActionForm], Keys::Code(KeyCode::End), Action::CursorEnd, "End", "end of the text", ""),
    bind!(&[Text, Form, ActionForm], Keys::Code(KeyCode::Delete), Action::Delete, "Del", "delete the character under the cursor", ""),
    bind!(&[Text, Form, ActionForm, Picker, Choice, Multi, Rank, Note, DoorLog, Checklist, ReportChoose], Keys::Code(KeyCode::Backspace), Action::Backspace, "Bksp", "delete (never leaves the question)", ""),
    bind!(&[Text, ActionForm], Keys::Ctrl('u'), Action::ClearField, "^U", "clear the whole field", "clear"),
    bind!(QUESTION, Keys::Ctrl('s'), Action::Skip, "^S", "skip (optional questions only)", "skip"),
    bind!(&[Text, Choice, Multi, Rank, Note, Review, Checklist, Handover], Keys::Ctrl('l'), Action::SwitchLanguage, "^L", "switch the interview language", "language"),
    bind!(&[Text, Choice, Multi, Rank, Note, Checklist], Keys::Ctrl('r'), Action::Review, "^R", "review all answers", "review"),
    bind!(PICKING, Keys::Code(KeyCode::Char('?')), Action::Help, "?", "help: every key on this screen", "help"),
    bind!(&[Text, Form, ActionForm, Rank, Note], Keys::Code(KeyCode::F(1)), Action::Help, "F1", "help: every key on this screen", "help"),
    bind!(PICKING, Keys::Code(KeyCode::F(1)), Action::Help, "F1", "help", ""),
    bind!(&[Menu, Drafts, Actions], Keys::Code(KeyCode::Char('q')), Action::Quit, "q", "quit (everything is saved)", "quit"),
    bind!(ALL, Keys::Code(KeyCode::Esc), Action::Leave, "Esc", "leave (an interview stays a draft)", "leave"),
    bind!(ALL, Keys::Ctrl('c'), Action::Quit, "^C", "quit (everything is saved)", ""),
    bind!(&[Text, Form, ActionForm, Picker, Choice, Multi, Checklist], Keys::Chars, Action::Char(' '), "a-z", "type / filter the list", ""),
    bind!(&[ReportChoose], Keys::Chars, Action::Char('2'), "0-9", "type a period, e.g. 2026-Q3 (Enter sets it)", "type period"),
    bind!(&[Conflict], Keys::Chars, Action::Char('a'), "a/b…", "keep version A, B … of this response (journaled)", "keep"),
];

fn matches(keys: Keys, ev: &KeyEvent) -> Option<Action> {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    match keys {
        Keys::Code(code) => (!ctrl && !alt && ev.code == code).then_some(Action::Quit),
        Keys::Ctrl(c) => (ctrl && ev.code == KeyCode::Char(c)).then_some(Action::Quit),
        Keys::Digits => match ev.code {
            KeyCode::Char(d @ '0'..='9') if !ctrl && !alt => Some(Action::Digit(d as u8 - b'0')),
            _ => None,
        },
        Keys::Chars => match ev.code {
            KeyCode::Char(c) if !ctrl && !alt && !c.is_control() => Some(Action::Char(c)),
            _ => None,
        },
    }
}

/// The action a key press means in `mode`, if any.
pub fn action_for(mode: Mode, ev: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.modes.contains(&mode))
        .find_map(|b| {
            let hit = matches(b.keys, ev)?;
            Some(match (b.keys, hit) {
                // Patterns carry the key's own digit or character.
                (Keys::Digits, d @ Action::Digit(_)) => d,
                (Keys::Chars, c @ Action::Char(_)) if matches!(b.action, Action::Char(_)) => c,
                _ => b.action,
            })
        })
}

/// `(keys, what they do)` for every binding in `mode`, for the help screen.
pub fn help_for(mode: Mode) -> Vec<(&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.modes.contains(&mode))
        .map(|b| (b.label, b.help))
        .collect()
}

/// The short key hint for the foot of the screen.
pub fn hint_line(mode: Mode) -> String {
    let mut seen = Vec::new();
    BINDINGS
        .iter()
        .filter(|b| !b.hint.is_empty() && b.modes.contains(&mode))
        .filter(|b| {
            let new = !seen.contains(&b.label);
            seen.push(b.label);
            new
        })
        .map(|b| format!("{} {}", b.label, b.hint))
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyEventKind, KeyEventState};

    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn the_same_key_means_what_the_mode_says() {
        assert_eq!(
            action_for(Mode::Choice, &key(KeyCode::Char('3'))),
            Some(Action::Digit(3))
        );
        assert_eq!(
            action_for(Mode::Text, &key(KeyCode::Char('3'))),
            Some(Action::Char('3'))
        );
        assert_eq!(
            action_for(Mode::DoorLog, &key(KeyCode::Char('n'))),
            Some(Action::NoAnswer)
        );
        assert_eq!(
            action_for(Mode::Checklist, &key(KeyCode::Char('n'))),
            Some(Action::Note)
        );
        assert_eq!(
            action_for(Mode::Text, &key(KeyCode::Char('n'))),
            Some(Action::Char('n'))
        );
        assert_eq!(
            action_for(Mode::Text, &key(KeyCode::Char('?'))),
            Some(Action::Char('?'))
        );
        assert_eq!(
            action_for(Mode::Choice, &key(KeyCode::Char('?'))),
            Some(Action::Help)
        );
        assert_eq!(
            action_for(Mode::Multi, &key(KeyCode::Char(' '))),
            Some(Action::Toggle)
        );
        assert_eq!(
            action_for(Mode::Text, &key(KeyCode::Char(' '))),
            Some(Action::Char(' '))
        );
        assert_eq!(action_for(Mode::Choice, &ctrl('s')), Some(Action::Skip));
        assert_eq!(
            action_for(Mode::Text, &ctrl('l')),
            Some(Action::SwitchLanguage)
        );
        assert_eq!(action_for(Mode::Menu, &ctrl('c')), Some(Action::Quit));
        assert_eq!(
            action_for(Mode::Help, &key(KeyCode::Char('x'))),
            Some(Action::Leave)
        );
        assert_eq!(action_for(Mode::Menu, &key(KeyCode::F(12))), None);
        // Asked to confirm, only y goes ahead; Enter (typed on by habit) does nothing.
        assert_eq!(
            action_for(Mode::Confirm, &key(KeyCode::Char('y'))),
            Some(Action::Yes)
        );
        assert_eq!(
            action_for(Mode::Confirm, &key(KeyCode::Char('n'))),
            Some(Action::Leave)
        );
        assert_eq!(action_for(Mode::Confirm, &key(KeyCode::Enter)), None);
        assert_eq!(
            action_for(Mode::Drafts, &key(KeyCode::Char('d'))),
            Some(Action::Discard)
        );
        assert_eq!(action_for(Mode::Menu, &key(KeyCode::Char('d'))), None);
    }

    #[test]
    fn every_mode_can_confirm_and_leave() {
        for mode in [
            Mode::Menu,
            Mode::Drafts,
            Mode::Picker,
            Mode::Text,
            Mode::Form,
            Mode::Choice,
            Mode::Multi,
            Mode::Rank,
            Mode::Note,
            Mode::Review,
            Mode::DoorLog,
            Mode::Checklist,
            Mode::Outcome,
            Mode::Batches,
            Mode::Conflict,
            Mode::ReportChoose,
            Mode::Report,
            Mode::Actions,
            Mode::ActionShow,
            Mode::ActionForm,
        ] {
            assert_eq!(
                action_for(mode, &key(KeyCode::Enter)),
                Some(Action::Confirm),
                "{mode:?}"
            );
            assert_eq!(
                action_for(mode, &key(KeyCode::Esc)),
                Some(Action::Leave),
                "{mode:?}"
            );
            assert_eq!(
                action_for(mode, &key(KeyCode::Down)),
                Some(Action::Down),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn every_hinted_binding_is_on_the_help_screen() {
        for mode in [
            Mode::Menu,
            Mode::Drafts,
            Mode::Confirm,
            Mode::Text,
            Mode::Form,
            Mode::Choice,
            Mode::Multi,
            Mode::Rank,
            Mode::Review,
            Mode::DoorLog,
            Mode::Checklist,
            Mode::Outcome,
            Mode::Batches,
            Mode::Conflict,
            Mode::ReportChoose,
            Mode::Report,
            Mode::Actions,
            Mode::ActionShow,
            Mode::ActionForm,
        ] {
            let help = help_for(mode);
            assert!(!hint_line(mode).is_empty(), "{mode:?}");
            for b in BINDINGS
                .iter()
                .filter(|b| !b.hint.is_empty() && b.modes.contains(&mode))
            {
                assert!(help.contains(&(b.label, b.help)), "{mode:?}: {}", b.label);
            }
        }
    }
}
