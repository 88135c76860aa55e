//! Everything a user can ask for. Keys become actions in `keys.rs` and nowhere else;
//! screens only ever see actions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the app (everything is already on disk).
    Quit,
    /// Leave the current screen; in an interview, keep it as a draft.
    Leave,
    Help,
    Confirm,
    Up,
    Down,
    PageUp,
    PageDown,
    /// Back to the previous question / field.
    Back,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    Backspace,
    Delete,
    Toggle,
    Digit(u8),
    Char(char),
    Skip,
    SwitchLanguage,
    Review,
    Finalize,
    /// From the review: on to the first question still without an answer.
    Continue,
    /// Empty the text field being typed into.
    ClearField,
    /// Door log outcomes.
    NoAnswer,
    Refused,
    CallBack,
    Interview,
    NotApplicable,
    NewDoor,
    /// Correct the selected door's street or number.
    EditDoor,
    /// Take the selected door out of the log (asks first).
    RemoveDoor,
    /// Discard the selected draft (asks first; it is kept as abandoned).
    Discard,
    /// Change the officer using this device (shift change; asks first).
    ChangeOfficer,
    /// "Yes" to a question asking to confirm.
    Yes,
    /// EVA checklist.
    Grade(char),
    GradePlus,
    GradeMinus,
    Urgent,
    Note,
    Location,
    /// Merge the verified batch files (coordinator).
    Merge,
    /// List the unresolved conflicts (coordinator).
    Conflicts,
    /// The report screen: the period before / after, the next area level.
    PeriodPrev,
    PeriodNext,
    NextLevel,
    /// The report screen: public or internal view, the next export format, export.
    ToggleInternal,
    NextFormat,
    ExportPack,
    /// The actions screen: add, update, open the finding or the priority an action serves.
    AddAction,
    UpdateAction,
    OpenFinding,
    OpenPriority,
    /// The actions screen: the next area, status or agency to filter by; no filters.
    FilterArea,
    FilterStatus,
    FilterAgency,
    ClearFilters,
    /// A choice field of a form: the next / previous choice.
    NextOption,
    PrevOption,
}
