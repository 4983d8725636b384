"""The short demographic profile: features, their categories and the questions that ask them."""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark a message for translation without translating it yet."""
    return message


PREFER_NOT_TO_SAY = "prefer_not"


@dataclass(frozen=True)
class Category:
    """One answer a resident can give, with its untranslated label."""

    id: str
    label: str
    group: str | None = None


@dataclass(frozen=True)
class Feature:
    """A profile question: its id, question text and categories."""

    id: str
    name: str
    question: str
    categories: tuple[Category, ...]
    special_category: bool = False

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if any."""
        return next((c for c in self.categories if c.id == category_id), None)


PREFER_NOT = Category(PREFER_NOT_TO_SAY, N_("Prefer not to say"))

AGE_BAND = Feature(
    "age_band",
    N_("Age"),
    N_("How old are you?"),
    (
        Category("16_24", N_("16 to 24")),
        Category("25_34", N_("25 to 34")),
        Category("35_44", N_("35 to 44")),
        Category("45_54", N_("45 to 54")),
        Category("55_64", N_("55 to 64")),
        Category("65_74", N_("65 to 74")),
        Category("75_plus", N_("75 or over")),
        PREFER_NOT,
    ),
)

SEX = Feature(
    "sex",
    N_("Sex or gender"),
    N_("Are you…?"),
    (
        Category("female", N_("A woman")),
        Category("male", N_("A man")),
        Category("other", N_("I describe myself another way")),
        PREFER_NOT,
    ),
)

# ONS Census 2021 ethnic groups (England and Wales): 5 high-level groups, 19 categories.
ETHNIC_GROUPS = (
    Category("asian", N_("Asian or Asian British")),
    Category("black", N_("Black, Black British, Caribbean or African")),
    Category("mixed", N_("Mixed or multiple ethnic groups")),
    Category("white", N_("White")),
    Category("other", N_("Another ethnic group")),
)

ETHNICITY = Feature(
    "ethnicity",
    N_("Ethnic group"),
    N_("Which of these best describes your ethnic group?"),
    (
        Category("asian_bangladeshi", N_("Bangladeshi"), "asian"),
        Category("asian_chinese", N_("Chinese"), "asian"),
        Category("asian_indian", N_("Indian"), "asian"),
        Category("asian_pakistani", N_("Pakistani"), "asian"),
        Category("asian_other", N_("Any other Asian background"), "asian"),
        Category("black_african", N_("African"), "black"),
        Category("black_caribbean", N_("Caribbean"), "black"),
        Category(
            "black_other", N_("Any other Black, Black British or Caribbean background"), "black"
        ),
        Category("mixed_white_asian", N_("White and Asian"), "mixed"),
        Category("mixed_white_black_african", N_("White and Black African"), "mixed"),
        Category("mixed_white_black_caribbean", N_("White and Black Caribbean"), "mixed"),
        Category("mixed_other", N_("Any other Mixed or multiple ethnic background"), "mixed"),
        Category(
            "white_british",
            N_("English, Welsh, Scottish, Northern Irish or British"),
            "white",
        ),
        Category("white_irish", N_("Irish"), "white"),
        Category("white_gypsy_traveller", N_("Gypsy or Irish Traveller"), "white"),
        Category("white_roma", N_("Roma"), "white"),
        Category("white_other", N_("Any other White background"), "white"),
        Category("other_arab", N_("Arab"), "other"),
        Category("other_any", N_("Any other ethnic group"), "other"),
        PREFER_NOT,
    ),
    special_category=True,
)

DISABILITY = Feature(
    "disability",
    N_("Long-term condition or disability"),
    N_(
        "Do you have a physical or mental health condition or illness lasting or expected"
        " to last 12 months or more that reduces your ability to carry out day-to-day activities?"
    ),
    (
        Category("yes_a_lot", N_("Yes, a lot")),
        Category("yes_a_little", N_("Yes, a little")),
        Category("no", N_("No")),
        PREFER_NOT,
    ),
    special_category=True,
)

CARER = Feature(
    "carer",
    N_("Unpaid carer"),
    N_(
        "Do you look after, or give any help or support to, anyone because of long-term"
        " physical or mental health conditions, illness or problems related to old age?"
        " (Not as part of paid work.)"
    ),
    (
        Category("yes", N_("Yes")),
        Category("no", N_("No")),
        PREFER_NOT,
    ),
)

FEATURES: tuple[Feature, ...] = (AGE_BAND, SEX, ETHNICITY, DISABILITY, CARER)
FEATURES_BY_ID = {feature.id: feature for feature in FEATURES}


def features_for(special_category_consent: bool) -> tuple[Feature, ...]:
    """The profile questions a resident is asked, given their special-category consent."""
    return tuple(f for f in FEATURES if special_category_consent or not f.special_category)


def ethnicities_in_group(group_id: str) -> tuple[Category, ...]:
    """The detailed ethnic categories in one high-level group."""
    return tuple(c for c in ETHNICITY.categories if c.group == group_id)


def ethnic_group_of(ethnicity: str) -> str | None:
    """The broad ethnic group (as the census counts it) of a detailed ethnicity answer."""
    category = ETHNICITY.category(ethnicity)
    return category.group if category is not None else None
