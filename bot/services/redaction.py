"""De-identify free text offline: UK identifiers become typed placeholders such as <PHONE>."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.services.postcode import _INWARD, _OUTWARD, parse_postcode

KINDS = ("NAME", "PHONE", "NHS_NUMBER", "EMAIL", "POSTCODE", "ADDRESS", "DATE_OF_BIRTH")

# Ties between equally long candidates go to the more specific kind (lower rank wins).
_RANK = {
    "NHS_NUMBER": 0,
    "EMAIL": 1,
    "PHONE": 2,
    "DATE_OF_BIRTH": 3,
    "POSTCODE": 4,
    "ADDRESS": 5,
    "NAME": 6,
}


@dataclass(frozen=True)
class Span:
    """One identifier found: character offsets in the normalised text and its kind."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redacted:
    """Redacted text plus the spans (in the normalised input) that were replaced."""

    text: str
    spans: tuple[Span, ...]


Candidate = tuple[int, int, str]


def _words(blob: str) -> frozenset[str]:
    """A set of lower-cased words from a whitespace-separated blob."""
    return frozenset(blob.lower().split())


def _letter_class(test: Callable[[str], bool]) -> str:
    """Regex class body of the Latin letters (ASCII to Latin Extended-B) passing the test."""
    letters = (chr(code) for code in range(0x41, 0x250))
    return "".join(re.escape(c) for c in letters if c.isalpha() and test(c))


_UP = _letter_class(str.isupper)
_LO = _letter_class(str.islower)

# --------------------------------------------------------------------------- word lists

# Common UK first names across communities; unambiguous ones act as a cue on their own.
_FIRST_NAMES = _words(
    """
    margaret jean joan doreen maureen brenda barbara patricia sandra susan linda elaine janet
    pauline sheila shirley valerie carol christine elizabeth mary anne ann helen gillian
    deborah karen julie tracey tracy michelle nicola claire sarah emma rachel rebecca laura
    kelly lisa joanne donna amanda samantha gemma hannah jessica charlotte sophie olivia
    amelia isla emily ava mia ella chloe freya evie isabella niamh siobhan aoife ciara
    kirsty fiona morag eileen agnes edith ethel gladys winifred dorothy irene vera elsie mabel
    beryl hilda norma marjorie sylvia pamela wendy jacqueline lorraine beverley denise alison
    katie kate lucy megan bethan cerys rhiannon sian nia eleri ffion catrin gwen angharad
    alys mair dilys glenys myfanwy bronwen carys lowri seren heledd
    john david michael peter paul james robert richard stephen steven andrew ian alan brian
    keith kevin gary graham derek trevor colin roy ronald kenneth dennis norman stanley
    harold albert arthur frederick fred george thomas tom william harry jack oliver noah leo
    oscar charlie alfie freddie archie theo jacob ethan daniel matthew christopher chris
    simon neil martin nigel barry terry tony anthony philip phil geoff geoffrey malcolm
    gordon hamish callum ewan euan angus fraser declan sean seamus liam ciaran conor padraig
    dafydd gareth rhys iwan emyr gethin owain huw aled dylan ioan tomos geraint llyr
    mohammed muhammad mohammad ahmed ali hassan hussain imran tariq asif khalid bilal usman
    zain ayaan arjun rohan raj rajesh sanjay vijay amit ravi sunil anil deepak harpreet
    gurpreet manpreet jaspreet sukhdev kuldip baljit amrit priya anjali sunita pooja neha
    kavita meera asha lakshmi aisha ayesha fatima zainab maryam amina nadia samina shabana
    nasreen rubina farzana parveen shazia sadia hina rukhsana tahira yasmin khadija hamza
    omar yusuf ibrahim ismail abdul rahul nikhil aarav vikram devi anita rekha shanti sita
    nirmala kamala saira nazia shamima rizwan faisal kashif waqas adeel junaid
    agnieszka katarzyna kasia magdalena magda małgorzata gosia joanna ewa anna marta monika
    aleksandra zofia zosia krzysztof piotr paweł tomasz łukasz marek michał jakub kuba
    wojciech andrzej grzegorz mateusz bartosz janusz jerzy stanisław dorota beata halina
    danuta iwona krystyna wiesław
    kwame kofi kwaku yaw ama akua abena adwoa efua chidi chinedu chiamaka ngozi adaeze
    obinna emeka ifeoma nkechi oluwaseun seun tunde ayodele folake funmi funmilayo temitope
    tope bola yetunde babajide olumide kemi amara zawadi wanjiru njeri amani thabo sipho
    themba nomvula tendai tatenda farai rudo chipo abdi hodan fadumo hawa mariam segun femi
    dayo nneka adebayo chukwuma uchenna blessing precious
    delroy winston errol leroy clive lloyd desmond everton carlton marcia paulette claudette
    hyacinth merle sonia yvonne jennifer shanice tyrone jermaine marlon dwayne andre kemar
    maria sofia ana elif mehmet ahmet kai jayden tyler kieran shane wayne dean craig lee
    steve sam jo joe ben max luke adam josh joshua ryan nathan alex alexander sophia lauren
    amy zoe leah abigail phoebe harriet eleanor ellie millie molly maisie matilda edward henry
    louis sebastian toby finley reggie ronnie jim bert bernard cyril eric ernest herbert
    leonard len reg sid walter wilf wilfred betty peggy nora nellie ada annie lilian lillian
    muriel phyllis rita kath kathleen catherine katherine caroline diane dianne jane janice
    julia lynn lynne marion maxine sally tina rehana shabnam jaspal ranjit mandeep navdeep
    ishaan anika riya diya sana iqra hafsa mustafa haroon sajid shahid naveed zubair farhan
    arif tolu tolulope chidera chisom kelechi ife ayo lanre dami kwabena esi yaa marcus
    denzel kareem keisha tanisha natalie simone sharon angela basia jacek tadeusz zbigniew
    bogdan ryszard kazimierz ania wiktoria natalia catriona mhairi eilidh shona rory niall
    cormac eoin oisin aidan orla roisin grainne maeve elin manon mali osian iestyn rhodri
    aditi hamid reza leila dariusz kerry stacey leanne danielle jodie hayley carly nicole
    stephanie vicky becky jess katy kayleigh chelsea courtney shannon bethany paige mason
    riley harvey logan kyle connor aaron jamie scott darren jason carl mick dave pete mike
    andy jon nick matt tim danny julian adrian damian vivian selam meron dawit yonas hana
    thandi thandiwe nomsa lindiwe sibusiso jas jaswinder jaswant gurdev harjit simran
    raheem tyrell shirin parisa dina rana layla noor hiba salma musa idris jamal kareena
    ioana andrei mihai elena irina olga natasha svetlana dmitri sergei bogdana alina kev gaz
    baz shaz morven kirsteen ailsa iona innes lachlan fergus alasdair ruairidh finlay calum
    parminder beth lorna kobby kwesi kojo kwabena akosua afia esi yaw
    """
)

# Names that are also ordinary words, months or places: never a cue on their own.
_AMBIGUOUS_NAMES = _words(
    """
    joy hope faith grace may june april august rose lily daisy ruby amber holly ivy iris
    pearl will bill frank pat sue dawn robin victoria jordan florence chester penny sky
    summer autumn angel miles eve crystal sunny art rob mark jade star
    """
)

# Ambiguous names that, typed in lower case after a cue, are much more likely ordinary words.
_AMBIGUOUS_LOWER = _words(
    """
    will may mark bill frank rob pat hope faith dawn june april august summer sunny eve
    miles art sue can star
    """
)

# Capitalised words that are never a person's name in these stories.
_NOT_NAMES = _words(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec christmas xmas easter eid
    ramadan diwali hanukkah vaisakhi new year bank holiday spring summer autumn winter
    hospital infirmary surgery practice centre center clinic unit ward wards team service
    services trust council pharmacy chemist health care medical mental social general royal
    university community street road lane avenue house home court lodge hall park church
    school college group line online app direct allowance credit universal benefit benefits
    emergency department dept doctor doctors nurse nurses practitioner consultant registrar
    locum manager specialist worker visitor midwife paramedic receptionist pharmacist dentist
    physio therapist sister matron mum mam mom mummy mother dad daddy father nan nana nanna
    gran granny grandad granddad grandpa grandma grandmother grandfather auntie aunty aunt
    uncle son daughter baby husband wife partner carer carers friend neighbour brother the
    a an and but so then when after before because if it this that they we he she you my our
    his her their your hi hello hey dear thanks thank cheers regards love best yes no ok okay
    please sorry not just also still very really today tomorrow yesterday tonight morning
    afternoon evening night weekend week month covid coronavirus google facebook twitter
    instagram zoom teams skype whatsapp tiktok youtube boots tesco asda sainsbury sainsburys
    morrisons aldi lidl superdrug specsavers lloyds macmillan mind samaritans age alzheimer
    alzheimers dementia diabetes cancer stroke english polish urdu punjabi arabic bengali
    british welsh scottish irish muslim christian hindu sikh jewish catholic leeds bradford
    wakefield harrogate halifax huddersfield york sheffield manchester london cardiff swansea
    newport glasgow edinburgh birmingham liverpool bristol nottingham leicester hull newcastle
    sunderland durham kirklees calderdale airedale keighley otley ilkley pudsey headingley
    chapeltown harehills armley seacroft beeston yorkshire wales scotland england ireland
    britain uk paracetamol ibuprofen sertraline insulin metformin aspirin codeine morphine
    amoxicillin omeprazole calpol gaviscon appointment referral letter prescription bed room
    reception triage discharge admissions outpatients maternity a&e ae er icu itu gp nhs
    ambulance paramedics police fire crisis urgent emergency minor injuries walk-in
    dental dentistry eye eyes ear ears all every some any more most much many well good bad
    great fine lovely kind nice poor terrible awful brilliant amazing thankfully luckily
    unfortunately honestly anyway anyways apparently eventually finally meanwhile however
    although though still even only once twice there here where what who why how which
    while until since from with without about above below under over into onto upon within
    hi-ya sir madam miss mister mrs mr ms mx dr prof rev email e-mail mail phone tel mob
    mobile ring call text contact address postcode name number landline dob nhs
    """
)

# Capitalised words marking a place, building or organisation rather than a person.
_PLACE_WORDS = _words(
    """
    hospital infirmary ward wards unit surgery practice centre center clinic house court
    lodge hall park road street lane avenue close drive way church chapel mosque temple
    gurdwara synagogue school academy college university medical health hospice home homes
    trust foundation memorial wing suite building library station square gardens green hill
    pharmacy dental care mews place view terrace crescent grove row curie line
    """
)

# Lower-case words that follow "dr"/"mr"/"mrs" without being a surname.
_LOWER_STOP = _words(
    """
    a an the and or but so to of in on at by for from with about as is was were are be been
    has had have having will would could should can cant cannot wont might must may did
    didnt does doesnt do dont said says told tells asked asks gave gives rang rings called
    calls sent sends put puts thinks thought wants wanted who whom which that then there here
    never always also too again just only still even not no yes ok okay please thanks
    referred prescribed examined explained checked looked saw sees seen listened came come
    comes went goes gone got gets get took takes made makes knew knows understood phoned
    emailed wrote writes appointment surgery practice receptionist nurse said straight
    """
)

# Lower-case words that rule out "NUMBER words SUFFIX" being a street address.
_ADDRESS_STOP = _words(
    """
    a an the of on in at to up down and or but for from with by into onto over under my our
    your his her their its this that these those more less other another same long short
    big small whole half min mins minute minutes hour hours hr hrs day days week weeks month
    months year years yr yrs mile miles km metres meters yards foot feet times time steps
    stairs floors doors houses people kids children cars buses is was were are be been it
    i we you they he she me him them us just only about very too so then than car bus taxi
    train lift walking walk-in more times x am pm ml mg tablets pills mins' hours'
    """
)

# Capitalised words that rule out "NUMBER words SUFFIX" being a street address.
_ADDRESS_STOP_TITLE = _words("hours minutes days weeks months years miles mins hrs times")

# Words after "I'm" that describe the writer rather than name them.
_NOT_INTRO = _words(
    """
    worried sorry not really so fine ok okay afraid writing going here happy sure glad still
    just very disabled deaf blind diabetic autistic pregnant retired unemployed homeless
    british english welsh scottish irish polish muslim christian hindu sikh jewish catholic
    also now a an the in on at from with only always never currently desperate scared angry
    upset tired exhausted frustrated grateful thankful lucky unwell ill poorly better worse
    old young new single married divorced widowed no yes your his her their sick
    """
)

_NOT_INTRO_ENDINGS = (
    "ing",
    "ed",
    "ly",
    "ful",
    "less",
    "ous",
    "ive",
    "able",
    "ish",
    "ic",
    "ian",
    "ese",
)

# Nationalities and communities: never a name after "I'm" or as a cue word.
_DEMONYMS = _words(
    """
    syrian iraqi iranian afghan kurdish pakistani bangladeshi indian sri lankan nepali
    nigerian ghanaian somali eritrean ethiopian sudanese kenyan ugandan zimbabwean congolese
    jamaican caribbean african asian european romanian bulgarian lithuanian latvian slovak
    czech hungarian ukrainian russian turkish greek italian spanish portuguese french german
    chinese vietnamese filipino thai arab gypsy traveller roma black white mixed brown
    """
)

_PLURAL_CUES = _words(
    """
    sons daughters children kids twins parents brothers sisters grandchildren grandkids
    friends neighbours neighbors carers grandsons granddaughters nieces nephews cousins boys
    girls
    """
)

# Lower-case honorific abbreviations people type before a lower-case surname.
_LOOSE_HONORIFICS = frozenset({"dr", "mr", "mrs"})

_SURNAME_PARTICLES = r"(?:da|de|del|della|di|du|van|von|der|den|le|la|al|el|bin|bint|ibn|ap)"

# --------------------------------------------------------------------------- patterns

_NAME_TOKEN = (
    rf"(?:Mc|Mac|O['’]|D['’])?[{_UP}][{_LO}]+"
    rf"(?:-[{_UP}]?[{_LO}]+|['’][{_UP}][{_LO}]+)*(?![\w&])"
)
_LOWER_TOKEN = rf"[{_LO}]+(?:-[{_LO}]+)?(?![\w&])"
_TOKEN_RE = re.compile(rf"(?<![\w&'’.-]){_NAME_TOKEN}")
_RUN_TOKEN_RE = re.compile(_NAME_TOKEN)
_LOWER_TOKEN_RE = re.compile(_LOWER_TOKEN)
_INITIAL_RE = re.compile(rf"[{_UP}]\.?[ \t]{{1,2}}(?={_NAME_TOKEN})")
_PARTICLE_RE = re.compile(rf"[ \t]{{1,2}}{_SURNAME_PARTICLES}(?=[ \t]{{1,2}}[{_UP}])")
_GAP_RE = re.compile(r"[ \t]{1,2}")
_WORD_RE = re.compile(rf"(?<![\w'’-])[{_UP}{_LO}]+(?:['’-][{_UP}{_LO}]+)*")
_PARTICLE_ONLY_RE = re.compile(_SURNAME_PARTICLES, re.IGNORECASE)
_PLACE_BEFORE_RE = re.compile(
    r"(?:\bSt\.?|\bSaint|\b[Ii]n|\b[Aa]t|\b[Ff]rom|\b[Nn]ear|\b[Vv]ia|\b[Tt]o)[ \t]{1,2}\Z"
)
_PLACE_AFTER_RE = re.compile(r"(?:['’]s)?(?:[ \t]{1,2}(\w+)){1,3}")
_LEAD_RE = re.compile(
    r"[ \t]{0,3}(?:[,:(\-–—][ \t]{0,3})?(?:(?:called|named)[ \t]{1,3})?",
    re.IGNORECASE,
)
_NEIGHBOUR_BEFORE_RE = re.compile(rf"(?<![\w'’.-])(?P<name>{_NAME_TOKEN})[ \t]{{1,2}}\Z")
_NEIGHBOUR_AFTER_RE = re.compile(rf"[ \t]{{1,2}}(?P<name>{_NAME_TOKEN})")
_IS_RE = re.compile(r"[ \t]{1,2}(?:is|was)[ \t]{1,2}", re.IGNORECASE)
_AND_RE = re.compile(r"[ \t]{0,2}(?:,|&|and|,[ \t]*and)[ \t]{1,3}", re.IGNORECASE)

_HONORIFIC_ABBR = r"(?:mrs|mr|ms|mx|miss|dr|prof|revd|rev|fr|cllr)"
_HONORIFIC_WORDS = (
    r"(?:doctor|nurse|sister|matron|professor|reverend|dame|sir|lady|lord|father|councillor"
    r"|midwife|imam|pastor|vicar|auntie|aunty|aunt|uncle)"
)
_KIN_WORDS = (
    r"(?:(?:grand|great[ -]grand|step|god)?(?:son|daughter|child|kid|mother|father|dad|mum"
    r"|mam|mom|parent)s?(?:[ -]in[ -]law)?|(?:grand)?children|(?:grand)?kids"
    r"|husband|wife|partner|fiancée?|fiance|boyfriend|girlfriend|hubby|brother|brothers"
    r"|sisters|sibling|siblings|twins?|baby|babies|boy|girl|nan|nana|nanna|gran|granny"
    r"|grandad|granddad|grandpa|grandma|niece|nieces|nephew|nephews|cousin|cousins|friend"
    r"|friends|bestie|mate|pal|neighbou?rs?|carers?|caregiver|care[ -]worker"
    r"|support[ -]worker|social[ -]worker|key[ -]?worker|health[ -]visitor"
    r"|care[ -]co-?ordinator|gp|consultant|surgeon|registrar|district[ -]nurse"
    r"|pharmacist|chemist|dentist|hygienist|physio|physiotherapist|therapist|counsellor"
    r"|psychiatrist|psychologist|paramedic|receptionist|manager|colleague|boss|landlord"
    r"|landlady|lodger|advocate|befriender|volunteer|chaplain|priest|interpreter"
    r"|translator|optician|podiatrist|dietitian|sonographer|anaesthetist|other[ -]half"
    r"|specialist|mentor|tutor|teacher|supervisor|coach|trainer|officer|practitioner"
    r"|assistant|boys|girls|sons|lassie|prescriber|navigator|link[ -]worker|hca)"
)
_PERSON_WORDS = (
    r"(?:lass|lad|fella|feller|bloke|chap|guy|lady|gentleman|gent|woman|man|girl|boy|person"
    r"|someone|somebody)"
)
_INTRO_NAME = (
    r"(?:my[ \t]+name[ \t]+is|my[ \t]+name['’]s|my[ \t]+names|name[ \t]+(?:is|was)|name['’]s"
    r"|i['’]?m[ \t]+called|i[ \t]+am[ \t]+called|call[ \t]+me|known[ \t]+as)"
)
_CUE_RE = re.compile(
    rf"(?<![\w'’])(?:(?P<abbr>{_HONORIFIC_ABBR})\.?(?=[ \t])"
    rf"|(?P<hon>{_HONORIFIC_WORDS}|{_KIN_WORDS})(?![\w'’-])"
    rf"|(?P<intro>{_INTRO_NAME})(?![\w'’])"
    r"|(?P<im>i['’]m|i[ \t]+am|im)(?=[ \t])"
    r"|(?P<me>me[ \t]{0,2}[:\-–—])(?=[ \t])"
    r"|(?P<this>this[ \t]+is|it['’]?s)(?=[ \t])"
    r"|(?P<called>called|named)(?=[ \t])"
    rf"|(?P<person>{_PERSON_WORDS})(?=[ \t]{{0,2}}[,:(]))",
    re.IGNORECASE,
)
_BEFORE_KIN_RE = re.compile(
    rf"(?<![\w'’.-])(?P<name>{_NAME_TOKEN})[ \t]{{0,2}}[,(]?[ \t]{{0,2}}"
    rf"(?i:(?:my|our|his|her|their)[ \t]{{1,2}}{_KIN_WORDS})(?![\w'’-])"
)
_SIGNOFF_RE = re.compile(
    r"(?<![\w'’])(?:many[ \t]+thanks|thanks|thank[ \t]+you|thank[ \t]+u|thx|ta|cheers"
    r"|kind[ \t]+regards|regards|best[ \t]+wishes|all[ \t]+the[ \t]+best|best|lots[ \t]+of"
    r"[ \t]+love|love|yours[ \t]+sincerely|yours[ \t]+faithfully|yours|sincerely"
    r"|take[ \t]+care|bye|god[ \t]+bless)[ \t]*[,.!:;]{0,3}[ \t]*(?:\n[ \t]*)?"
    r"|(?:^|(?<=[\s.!?]))[—–-]{1,2}[ \t]*",
    re.IGNORECASE,
)
_TAIL_END_RE = re.compile(r"[ \t]*[.!]{0,3}[ \t]*(?:x{1,5}|[(][^()\n]{0,30}[)])?[ \t.!]*\s*\Z")
_SIGN_WINDOW = 120
_PLACEHOLDER_RE = re.compile("<(?:" + "|".join(KINDS) + ")>")

_NHS_SEP = r"(?:[ \t]{0,2}[\-.‐-―−][ \t]{0,2}|[ \t]{1,2})?"
_NHS_RE = re.compile(
    rf"(?<![0-9])([0-9]{{3}}){_NHS_SEP}([0-9]{{3}}){_NHS_SEP}([0-9]{{4}})(?![0-9])"
)
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)

_PHONE_SEP = r"(?:[ \t.\-–]|[ \t][\-–][ \t])?"
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+|00)[ \t]?44[ \t\-]?(?:\([ \t]?0[ \t]?\)[ \t]?)?[1-9](?:{_PHONE_SEP}[0-9]){{8,9}}"
    rf"|\([ \t]?0[1-9][0-9]{{1,4}}[ \t]?\)[ \t]?[0-9](?:{_PHONE_SEP}[0-9]){{4,8}}"
    rf"|0[1-9](?:{_PHONE_SEP}[0-9]){{8,9}}"
    r")(?!\w)"
)
_PHONE_INTL_RE = re.compile(r"^(?:\+|00)[ \t]?44[ \t\-]?(?:\([ \t]?0[ \t]?\))?")

_EMAIL_RE = re.compile(
    r"(?<![\w.%+\-'])[\w.%+\-']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}(?![\w\-])"
)

_POSTCODE_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_OUTWARD})[ \t\-]{{0,3}}(?:{_INWARD})(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:road|rd|street|st|avenue|ave|lane|ln|close|drive|way|crescent|cres|grove|terrace"
    r"|tce|place|pl|court|ct|gardens|gdns|walk|row|hill|square|sq|parade|mews|view|rise"
    r"|green|park|vale|croft|fold|garth|chase|gate|mount|bank|boulevard|approach|wharf|yard"
    r"|meadows?|fields?|grange|heights|brow|wynd|side|dale|ridge|nook|cottages|villas"
    r"|buildings|quay|esplanade|promenade|hollow|circle|mead|end)"
)
_HOUSE_NUMBER = r"[0-9]{1,4}[a-z]?(?:[ \t]?[-–/][ \t]?[0-9]{1,4}[a-z]?)?"
_UNIT = r"(?:flat|apartment|apt|unit|room)\.?[ \t]{0,2}(?:no\.?[ \t]?)?[0-9]{1,4}[a-z]?"
_ADDRESS_RE = re.compile(
    r"(?<![\w/.\-])(?:"
    rf"{_UNIT},?[ \t]{{1,3}}(?:(?:no\.?|number)[ \t]?)?(?:(?P<num1>{_HOUSE_NUMBER}),?[ \t]{{1,3}})?"
    rf"|(?:(?:no\.?|number)[ \t]?)?(?P<num2>{_HOUSE_NUMBER}),?[ \t]{{1,3}})"
    r"(?P<words>(?:[a-z][a-z'’\-]{0,30}\.?[ \t]{1,3}){1,4})"
    rf"{_STREET_SUFFIX}\.?(?![\w'’\-])",
    re.IGNORECASE,
)

_WELSH_STREET = r"(?i:heol|ffordd|lôn|lon|stryd|rhodfa|maes)"
_WELSH_ADDRESS_RE = re.compile(
    r"(?<![\w/.\-])"
    rf"(?:(?i:{_UNIT}),?[ \t]{{1,3}})?(?:(?i:no\.?|number)[ \t]?)?"
    rf"(?i:{_HOUSE_NUMBER}),?[ \t]{{1,3}}"
    rf"{_WELSH_STREET}(?:[ \t]{{1,2}}(?i:y|yr)(?=[ \t]))?"
    rf"(?:[ \t]{{1,2}}[{_UP}][{_LO}'’\-]{{1,30}}){{1,3}}(?![\w'’\-])"
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:(?:19|20)[0-9]{2}|['’][0-9]{2}|[0-9]{2})"
_DATE_SEP = r"[ \t]{0,2}[/.\-][ \t]{0,2}"
_DATE_RE = re.compile(
    r"(?<![\w/.\-])(?:"
    rf"(?P<d1>[0-9]{{1,2}}){_DATE_SEP}(?P<m1>[0-9]{{1,2}}){_DATE_SEP}(?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|(?:19|20)[0-9]{{2}}{_DATE_SEP}(?P<m2>[0-9]{{1,2}}){_DATE_SEP}(?P<d2>[0-9]{{1,2}})"
    r"|(?P<d3>[0-3][0-9])(?P<m3>[01][0-9])(?:19|20)[0-9]{2}"
    rf"|(?:the[ \t]{{1,2}})?{_DAY}(?:[ \t]{{1,2}}of)?[ \t,/\-]{{1,3}}{_MONTH}"
    rf"(?:[ \t,/\-]{{1,3}}{_YEAR})?"
    rf"|{_MONTH}[ \t]{{1,2}}(?:the[ \t]{{1,2}})?{_DAY}(?:[ \t,]{{1,3}}{_YEAR})?"
    rf"|{_MONTH}[ \t,]{{1,3}}(?:19|20)[0-9]{{2}}"
    r")(?![\w/])",
    re.IGNORECASE,
)
_DOB_CUE_RE = re.compile(
    r"(?<![a-z])(?:born|birth[ \t]?day|b['’\-]?day|date[ \t]+of[ \t]+birth|birth[ \t]?date"
    r"|d\.?[ \t]?o\.?[ \t]?b\.?|b\.)(?![a-z])",
    re.IGNORECASE,
)
_DOB_AFTER_RE = re.compile(
    r"[^.!?;\n0-9<>]{0,24}?(?<![a-z])"
    r"(?:d\.?o\.?b|date[ \t]+of[ \t]+birth|born|birth[ \t]?day|birth[ \t]?date)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_DOB_GAP_BREAK_RE = re.compile(r"[0-9]{3}|[0-9][/.\-][0-9]|[\n!?;<>]|[.][ \t]")
_DOB_WINDOW = 48
_DOB_MAX_GAP = 40


# --------------------------------------------------------------------------- helpers


def _nhs_checksum_ok(digits: str) -> bool:
    """True when a 10-digit string passes the NHS number modulus-11 check."""
    total = sum(int(d) * w for d, w in zip(digits[:9], _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _digits(text: str) -> str:
    """Only the ASCII digits of a string."""
    return "".join(c for c in text if "0" <= c <= "9")


def _uk_phone_ok(candidate: str) -> bool:
    """True when a phone-shaped match has a UK national number of a plausible length."""
    intl = _PHONE_INTL_RE.match(candidate)
    national = "0" + _digits(candidate[intl.end() :]) if intl else _digits(candidate)
    if national[1] not in "1235789":
        return False
    if national[1] == "7":
        return len(national) == 11
    return len(national) in (10, 11)


def _valid_numeric_date(match: re.Match[str]) -> bool:
    """True when a numeric date has a plausible day and month in some order."""
    first = match["d1"] or match["d2"] or match["d3"]
    second = match["m1"] or match["m2"] or match["m3"]
    if first is None or second is None:
        return True
    a, b = int(first), int(second)
    if match["d1"] is None:
        return 1 <= a <= 31 and 1 <= b <= 12
    return 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12


def _is_capitalised(word: str) -> bool:
    """True when a word starts with an upper-case letter."""
    return word[:1].isupper()


def _bare(word: str) -> str:
    """A token lower-cased without a trailing possessive."""
    lowered = word.lower()
    for suffix in ("'s", "’s"):
        if lowered.endswith(suffix):
            return lowered[: -len(suffix)]
    return lowered


def _ranges_overlap(starts: list[int], ends: list[int], start: int, end: int) -> bool:
    """Does [start, end) overlap any of the sorted, disjoint ranges given by starts/ends?"""
    index = bisect_left(starts, end)
    return index > 0 and ends[index - 1] > start


def _iter_valid(
    pattern: re.Pattern[str], text: str, valid: Callable[[re.Match[str]], bool]
) -> Iterator[re.Match[str]]:
    """Matches passing `valid`; after a rejected match the search resumes one character on."""
    pos = 0
    while True:
        match = pattern.search(text, pos)
        if match is None:
            return
        if valid(match):
            yield match
            pos = max(match.end(), match.start() + 1)
        else:
            pos = match.start() + 1


# --------------------------------------------------------------------------- deny-list


def _fold(char: str) -> str:
    """A Latin letter without its accents, lower-cased ("É" -> "e", "ł" -> "l")."""
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _FOLD_EXTRA.get(stripped.lower(), stripped.lower())


def _accent_classes() -> dict[str, str]:
    """For each base letter, a regex class of it and its accented Latin variants."""
    variants: dict[str, set[str]] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        if char.isalpha() and len(_fold(char)) == 1:
            variants.setdefault(_fold(char), set()).add(char.lower())
    return {base: "[" + "".join(sorted(chars)) + "]" for base, chars in variants.items()}


def _flexible(item: str) -> str:
    """Regex for a deny-list name: any accents, either apostrophe, hyphen or space."""
    parts = []
    for char in item:
        if char in "'’":
            parts.append("['’]")
        elif char == "-" or char.isspace():
            parts.append(r"[\s\-]{1,3}")
        else:
            parts.append(_ACCENTS.get(_fold(char), re.escape(char)))
    return "".join(parts)


def _deny_name_parts(item: str) -> list[str]:
    """A deny-list name and, for several words, each word that is not a particle."""
    words = [w for w in item.split() if len(w) > 1 and not _PARTICLE_ONLY_RE.fullmatch(w)]
    return [item, *words] if len(item.split()) > 1 else [item]


def _deny_entry(item: str) -> tuple[str, str] | None:
    """(kind, regex) for one deny-list item, or None if it is too short to use."""
    if sum(c.isalnum() for c in item) < 2:
        return None
    postcode = parse_postcode(item)
    if postcode is not None:
        inward = rf"[ \t\-]{{0,3}}{re.escape(postcode.inward)}" if postcode.inward else ""
        return "POSTCODE", rf"(?<![A-Za-z0-9]){re.escape(postcode.district)}{inward}"
    if "@" in item:
        return "EMAIL", re.escape(item)
    for kind, shape in (("DATE_OF_BIRTH", _DATE_RE), ("ADDRESS", _ADDRESS_RE)):
        if shape.fullmatch(item):
            return kind, _flexible(item)
    digits = _digits(item)
    if len(digits) >= 7:
        kind = "NHS_NUMBER" if len(digits) == 10 and _nhs_checksum_ok(digits) else "PHONE"
        return kind, r"[ \t.\-]{0,2}".join(digits)
    alternatives = "|".join(_flexible(p) for p in _deny_name_parts(item))
    return "NAME", rf"(?:{alternatives})"


_FOLD_EXTRA = {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t"}
_ACCENTS = _accent_classes()


@lru_cache(maxsize=512)
def _deny_patterns(items: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compiled (kind, pattern) pairs for a deny-list, one pattern per kind."""
    by_kind: dict[str, list[str]] = {}
    for raw in items:
        entry = _deny_entry(unicodedata.normalize("NFKC", raw).strip())
        if entry is not None:
            by_kind.setdefault(entry[0], []).append(entry[1])
    compiled = []
    for kind, regexes in by_kind.items():
        body = "|".join(sorted(regexes, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.IGNORECASE)
        compiled.append((kind, pattern))
    return tuple(compiled)


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class _Policy:
    """How a name cue treats the word after it."""

    lower_names: bool = True  # accept a lower-case known first name ("my son tom")
    lower_any: bool = False  # accept any lower-case surname-like word ("dr patel")
    listed_only: bool = False  # accept only known first names ("this is Priya")
    intro: bool = False  # the "I'm X" rules


_GENERIC = _Policy()
_POLICIES = {
    "abbr": _Policy(lower_any=True),
    "hon": _Policy(),
    "intro": _Policy(),
    "im": _Policy(intro=True),
    "this": _Policy(listed_only=True, lower_names=False),
    "called": _Policy(),
    "person": _Policy(lower_names=False),
    "me": _Policy(),
}


def _known_first_name(word: str) -> bool:
    """True for a built-in first name, ambiguous or not."""
    bare = _bare(word)
    return bare in _FIRST_NAMES or bare in _AMBIGUOUS_NAMES


def _intro_word_ok(word: str) -> bool:
    """True when the capitalised word after "I'm" looks like a name, not a description."""
    bare = _bare(word)
    if bare in _FIRST_NAMES or bare in _AMBIGUOUS_NAMES:
        return True
    if bare in _NOT_INTRO or bare in _NOT_NAMES or bare in _DEMONYMS:
        return False
    return not bare.endswith(_NOT_INTRO_ENDINGS)


def _capital_token_ok(word: str, policy: _Policy, first: bool) -> bool:
    """Is a capitalised token acceptable as (part of) a name under the policy?"""
    bare = _bare(word)
    if bare in _NOT_NAMES:
        return False
    if first and policy.listed_only:
        return bare in _FIRST_NAMES or bare in _AMBIGUOUS_NAMES
    if first and policy.intro:
        return _intro_word_ok(word)
    return True


def _lower_token_ok(word: str, policy: _Policy, cue: str) -> bool:
    """Is a lower-case token acceptable as the first name word after this cue?"""
    bare = _bare(word)
    if policy.lower_any and cue.lower().rstrip(".") in _LOOSE_HONORIFICS:
        return len(bare) > 1 and bare not in _LOWER_STOP and not bare.endswith(("ed", "ing"))
    if not policy.lower_names or bare in _AMBIGUOUS_LOWER:
        return False
    return bare in _FIRST_NAMES or bare in _AMBIGUOUS_NAMES


def _first_token(text: str, pos: int, policy: _Policy, cue: str) -> tuple[int, int] | None:
    """The first name word at pos (after an optional initial), or None."""
    initial = _INITIAL_RE.match(text, pos)
    start = initial.end() if initial and not policy.intro else pos
    match = _RUN_TOKEN_RE.match(text, start)
    if match and _capital_token_ok(match.group(), policy, first=True):
        return (initial.start() if initial and not policy.intro else start), match.end()
    lower = _LOWER_TOKEN_RE.match(text, pos)
    if lower and _lower_token_ok(lower.group(), policy, cue):
        return lower.start(), lower.end()
    return None


def _next_surname(text: str, pos: int, lower_first: bool) -> int | None:
    """End of a following surname word (with particles), or None."""
    gap = _GAP_RE.match(text, pos)
    if gap is None:
        return None
    particle = _PARTICLE_RE.match(text, pos)
    start = _GAP_RE.match(text, particle.end()) if particle else gap
    if start is None:
        return None
    match = _RUN_TOKEN_RE.match(text, start.end())
    if match and _bare(match.group()) not in _NOT_NAMES:
        return match.end()
    lower = _LOWER_TOKEN_RE.match(text, gap.end())
    if lower_first and lower and _bare(lower.group()) in _FIRST_NAMES:
        return lower.end()
    return None


def _name_run(text: str, pos: int, policy: _Policy, cue: str) -> tuple[int, int] | None:
    """A first name plus up to two surname words starting at pos, or None."""
    first = _first_token(text, pos, policy, cue)
    if first is None:
        return None
    start, end = first
    lower_first = not _is_capitalised(text[start:end])
    for _ in range(2):
        following = _next_surname(text, end, lower_first)
        if following is None:
            break
        end = following
    return start, end


def _listed_run(text: str, pos: int) -> tuple[int, int] | None:
    """A known first name (plus surname) in a list after "and"/"," following a plural cue."""
    match = _RUN_TOKEN_RE.match(text, pos) or _LOWER_TOKEN_RE.match(text, pos)
    if match is None or not _known_first_name(match.group()):
        return None
    return _name_run(text, pos, _GENERIC, "")


def _run_after_cue(text: str, cue: re.Match[str], group: str) -> tuple[int, int] | None:
    """The name right after a cue, or after "is"/"was" when it is a known first name."""
    lead = _LEAD_RE.match(text, cue.end())
    pos = lead.end() if lead else cue.end()
    run = _name_run(text, pos, _POLICIES[group], cue.group())
    if run is not None or group != "hon":
        return run
    copula = _IS_RE.match(text, cue.end())
    return _listed_run(text, copula.end()) if copula else None


def _names_after_cue(text: str, cue: re.Match[str]) -> Iterator[Candidate]:
    """Name spans following one cue ("Dr", "my son", "my name is", "I'm" ...)."""
    group = cue.lastgroup or "hon"
    run = _run_after_cue(text, cue, group)
    if run is None:
        return
    yield run[0], run[1], "NAME"
    plural = group == "hon" and _bare(cue.group().split()[-1]) in _PLURAL_CUES
    for _ in range(4):
        joiner = _AND_RE.match(text, run[1])
        if joiner is None:
            return
        nxt = _name_run(text, joiner.end(), _GENERIC, "") if plural else None
        run = nxt or _listed_run(text, joiner.end())
        if run is None:
            return
        yield run[0], run[1], "NAME"


def _in_place_context(text: str, start: int, end: int) -> bool:
    """True when a capitalised name sits inside a place name ("St James's", "Elizabeth Ward")."""
    if _PLACE_BEFORE_RE.search(text[max(0, start - 8) : start]):
        return True
    following = _PLACE_AFTER_RE.match(text, end)
    if following is None:
        return False
    for word in following.group().replace("'s", " ").replace("’s", " ").split():
        if not _is_capitalised(word):
            return False
        if word.lower() in _PLACE_WORDS:
            return True
    return False


def _listed_names(text: str) -> Iterator[Candidate]:
    """Capitalised known first names anywhere, with a following surname."""
    for match in _TOKEN_RE.finditer(text):
        bare = _bare(match.group())
        if bare not in _FIRST_NAMES or bare in _NOT_NAMES:
            continue
        if _in_place_context(text, match.start(), match.end()):
            continue
        run = _name_run(text, match.start(), _GENERIC, "")
        if run is not None and not _in_place_context(text, run[0], run[1]):
            yield run[0], run[1], "NAME"


def _signature_names(text: str) -> Iterator[Candidate]:
    """A name signing off the end of the text ("Thanks, Margaret", "— Bob")."""
    offset = max(0, len(text) - _SIGN_WINDOW)
    for match in _SIGNOFF_RE.finditer(text, offset):
        before = text[max(0, match.start() - 4) : match.start()].rstrip()
        if before and before[-1].isalnum():
            continue
        run = _name_run(text, match.end(), _GENERIC, "")
        if run is not None and _TAIL_END_RE.match(text, run[1]):
            yield run[0], run[1], "NAME"


def _plain_word_ok(word: str) -> bool:
    """A capitalised word that is not a known non-name, nationality, adverb or past tense."""
    bare = _bare(word)
    if bare in _NOT_NAMES or bare in _DEMONYMS or bare in _PLACE_WORDS:
        return False
    return bare in _FIRST_NAMES or not bare.endswith(("ly", "ed"))


def _sentence_initial(text: str, start: int) -> bool:
    """True when only spaces separate start from the text's start or a sentence end."""
    before = text[max(0, start - 4) : start].rstrip(" \t")
    return not before or before[-1] in ".!?\n"


def _names_before_kin(text: str) -> Iterator[Candidate]:
    """A name right before "my daughter", "(our carer)" and the like."""
    for match in _BEFORE_KIN_RE.finditer(text):
        word = match.group("name")
        if not _plain_word_ok(word):
            continue
        if _sentence_initial(text, match.start()) and not _known_first_name(word):
            continue
        if _PLACE_BEFORE_RE.search(text, max(0, match.start() - 8), match.start()):
            continue
        yield match.start(), match.start() + len(word), "NAME"


def _deny_neighbours(text: str, denied: list[Candidate]) -> Iterator[Candidate]:
    """Capitalised words joined to a deny-listed name ("Thandi" in "Thandi Moyo")."""
    for start, end, kind in denied:
        if kind != "NAME":
            continue
        before = _NEIGHBOUR_BEFORE_RE.search(text, max(0, start - 40), start)
        if before and _plain_word_ok(before.group("name")):
            yield before.start(), before.start() + len(before.group("name")), "NAME"
        after = _NEIGHBOUR_AFTER_RE.match(text, end)
        if after and _plain_word_ok(after.group("name")):
            yield after.start("name"), after.end("name"), "NAME"


def _cued_names(text: str) -> Iterator[Candidate]:
    """Names after honorifics, kinship and role words, and introductions."""
    for cue in _CUE_RE.finditer(text):
        yield from _names_after_cue(text, cue)


def _repeated_names(text: str, found: list[Candidate]) -> Iterator[Candidate]:
    """Every other whole-word occurrence of a name word already found by a cue."""
    words = {w for s, e, _ in found for w in _WORD_RE.findall(text, s, e)}
    words = {w for w in words if len(w) > 1 and _bare(w) not in _NOT_NAMES}
    if not words:
        return
    known = {w.lower() for w in words if w.lower() in _FIRST_NAMES}
    for match in _WORD_RE.finditer(text):
        word = match.group()
        stem = word[:-2] if word.endswith(("'s", "’s")) else word
        if stem in words or stem.lower() in known:
            yield match.start(), match.start() + len(stem), "NAME"


def _names(text: str) -> Iterator[Candidate]:
    """Heuristic names: cues, known first names, sign-offs, and their repeats."""
    found = [
        *_cued_names(text),
        *_listed_names(text),
        *_signature_names(text),
        *_names_before_kin(text),
    ]
    yield from found
    yield from _repeated_names(text, found)


# --------------------------------------------------------------------------- other kinds


def _nhs_numbers(text: str) -> Iterator[Candidate]:
    """10-digit NHS numbers in 3-3-4 grouping with a valid checksum."""
    for match in _NHS_RE.finditer(text):
        if _nhs_checksum_ok("".join(match.groups())):
            yield match.start(), match.end(), "NHS_NUMBER"


def _phones(text: str) -> Iterator[Candidate]:
    """UK landline, mobile and freephone numbers, national or +44."""
    for match in _iter_valid(_PHONE_RE, text, lambda m: _uk_phone_ok(m.group())):
        yield match.start(), match.end(), "PHONE"


def _emails(text: str) -> Iterator[Candidate]:
    """E-mail addresses."""
    for match in _EMAIL_RE.finditer(text):
        yield match.start(), match.end(), "EMAIL"


def _postcodes(text: str) -> Iterator[Candidate]:
    """Full UK postcodes in any case, with or without the space."""
    for match in _POSTCODE_RE.finditer(text):
        parsed = parse_postcode(match.group())
        if parsed is not None and parsed.inward is not None:
            yield match.start(), match.end(), "POSTCODE"


def _address_words_ok(match: re.Match[str]) -> bool:
    """Reject "3 hours down the road": the words must look like a street name."""
    for word in match["words"].split():
        bare = word.strip(".,").lower()
        stop = _ADDRESS_STOP_TITLE if _is_capitalised(word) else _ADDRESS_STOP
        if bare in stop:
            return False
    return True


def _addresses(text: str) -> Iterator[Candidate]:
    """Street addresses: optional flat, house number, street words and a street suffix."""
    for match in _iter_valid(_ADDRESS_RE, text, _address_words_ok):
        yield match.start(), match.end(), "ADDRESS"
    for match in _WELSH_ADDRESS_RE.finditer(text):
        yield match.start(), match.end(), "ADDRESS"


def _dob_cued(text: str, start: int, end: int) -> bool:
    """True when a birth cue ("born", "DOB" ...) closely precedes or follows the date."""
    if _DOB_AFTER_RE.match(text, end):
        return True
    window_start = max(0, start - _DOB_WINDOW)
    cues = list(_DOB_CUE_RE.finditer(text, window_start, start))
    if not cues:
        return False
    gap = text[cues[-1].end() : start]
    return len(gap) <= _DOB_MAX_GAP and _DOB_GAP_BREAK_RE.search(gap) is None


def _dates_of_birth(text: str) -> Iterator[Candidate]:
    """Dates (numeric or written) with a birth cue nearby."""
    for match in _iter_valid(_DATE_RE, text, _valid_numeric_date):
        if _dob_cued(text, match.start(), match.end()):
            yield match.start(), match.end(), "DATE_OF_BIRTH"


def _denied(text: str, deny: tuple[str, ...]) -> Iterator[Candidate]:
    """Whole-word, case-insensitive occurrences of the caller's deny-list."""
    for kind, pattern in _deny_patterns(deny):
        for match in pattern.finditer(text):
            yield match.start(), match.end(), kind


# --------------------------------------------------------------------------- resolution


def _better(a: Candidate, b: Candidate) -> Candidate:
    """The candidate that names a cluster: longer first, then the more specific kind."""
    key_a = (a[0] - a[1], _RANK[a[2]])
    key_b = (b[0] - b[1], _RANK[b[2]])
    return a if key_a <= key_b else b


def _resolve(
    text: str, candidates: Iterable[Candidate], protected: list[tuple[int, int]]
) -> list[Span]:
    """Overlapping candidates become one span of the best one's kind; placeholders are kept."""
    starts = [s for s, _ in protected]
    ends = [e for _, e in protected]
    usable = sorted(
        c for c in set(candidates) if c[1] > c[0] and not _ranges_overlap(starts, ends, *c[:2])
    )
    spans: list[Span] = []
    cluster: list[int] = []
    best: Candidate | None = None
    for candidate in usable:
        if best is not None and candidate[0] < cluster[1]:
            cluster[1] = max(cluster[1], candidate[1])
            best = _better(best, candidate)
            continue
        if best is not None:
            spans.append(Span(cluster[0], cluster[1], best[2]))
        cluster, best = [candidate[0], candidate[1]], candidate
    if best is not None:
        spans.append(Span(cluster[0], cluster[1], best[2]))
    return _merge_names(text, spans)


def _merge_names(text: str, spans: list[Span]) -> list[Span]:
    """Join NAME spans separated only by a space or two ("Margaret" + "Hughes")."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        joinable = last is not None and last.kind == span.kind == "NAME"
        if last is not None and joinable and _GAP_RE.fullmatch(text, last.end, span.start):
            merged[-1] = Span(last.start, span.end, "NAME")
        else:
            merged.append(span)
    return merged


def _swallow_marks(text: str, spans: list[Span]) -> tuple[Span, ...]:
    """Extend spans over trailing combining marks so the output stays NFKC-stable."""
    result: list[Span] = []
    for index, span in enumerate(spans):
        limit = spans[index + 1].start if index + 1 < len(spans) else len(text)
        end = span.end
        while end < limit and unicodedata.category(text[end]).startswith("M"):
            end += 1
        result.append(Span(span.start, end, span.kind))
    return tuple(result)


def _protected(text: str) -> list[tuple[int, int]]:
    """Existing placeholders, which must never be redacted again."""
    return [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]


def _normalise(text: str) -> str:
    """NFKC-normalise text, the form every offset refers to."""
    return unicodedata.normalize("NFKC", text)


def _render(text: str, spans: Sequence[Span]) -> tuple[str, list[tuple[int, int, int]]]:
    """Text with spans replaced by placeholders, and (out_start, out_end, source_start) pieces."""
    pieces: list[str] = []
    kept: list[tuple[int, int, int]] = []
    position = length = 0
    for span in spans:
        pieces.append(text[position : span.start])
        kept.append((length, length + span.start - position, position))
        length += span.start - position
        pieces.append(f"<{span.kind}>")
        length += len(span.kind) + 2
        position = span.end
    pieces.append(text[position:])
    kept.append((length, length + len(text) - position, position))
    return "".join(pieces), kept


def _to_source(kept: list[tuple[int, int, int]], spans: Sequence[Span], at: int, end: bool) -> int:
    """Map an offset in rendered text back to the source; inside a placeholder, to its edge."""
    for index, (out_start, out_end, source) in enumerate(kept):
        if out_start <= at <= out_end:
            return source + at - out_start
        if index < len(spans) and at < kept[index + 1][0]:
            return spans[index].end if end else spans[index].start
    return kept[-1][2] + kept[-1][1] - kept[-1][0]


class Redactor:
    """Finds and replaces UK personal identifiers in free text using compiled patterns."""

    _MAX_PASSES = 4

    def __init__(self) -> None:
        self._finders: tuple[Callable[[str], Iterator[Candidate]], ...] = (
            _nhs_numbers,
            _phones,
            _emails,
            _postcodes,
            _addresses,
            _dates_of_birth,
            _names,
        )

    def find(self, text: str, deny: Sequence[str] = ()) -> tuple[Span, ...]:
        """Identifier spans in the NFKC-normalised text, sorted and non-overlapping."""
        return self._find_stable(_normalise(text), tuple(deny))

    def redact(self, text: str, deny: Sequence[str] = ()) -> Redacted:
        """The normalised text with each identifier replaced by its typed placeholder."""
        normalised = _normalise(text)
        spans = self._find_stable(normalised, tuple(deny))
        return Redacted(_render(normalised, spans)[0], spans)

    def _find_stable(self, text: str, deny: tuple[str, ...]) -> tuple[Span, ...]:
        """Spans whose redacted output yields nothing more when redacted again."""
        candidates = self._candidates(text, deny)
        spans = self._spans(text, candidates)
        if not spans:
            return spans  # nothing replaced: a second look would see the same text
        for _ in range(self._MAX_PASSES):
            rendered, kept = _render(text, spans)
            extra = self._spans(rendered, self._candidates(rendered, deny))
            if not extra:
                break
            for span in extra:
                start = _to_source(kept, spans, span.start, end=False)
                candidates.append((start, _to_source(kept, spans, span.end, end=True), span.kind))
            spans = self._spans(text, candidates)
        return spans

    def _candidates(self, text: str, deny: tuple[str, ...]) -> list[Candidate]:
        """Every candidate from every finder, overlapping or not."""
        candidates: list[Candidate] = []
        for finder in self._finders:
            candidates.extend(finder(text))
        if deny:
            denied = list(_denied(text, deny))
            candidates.extend(denied)
            candidates.extend(_deny_neighbours(text, denied))
        return candidates

    @staticmethod
    def _spans(text: str, candidates: list[Candidate]) -> tuple[Span, ...]:
        """Resolved, merged spans for a list of candidates in already-normalised text."""
        return _swallow_marks(text, _resolve(text, candidates, _protected(text)))


_SHARED = Redactor()


def redact(text: str, deny: Sequence[str] = ()) -> Redacted:
    """Redact text with the shared module-level Redactor."""
    return _SHARED.redact(text, deny)
