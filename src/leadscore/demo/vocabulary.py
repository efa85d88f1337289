"""The words and numbers of the demo data set: names, titles, places, site, mixes.

Nimbusline, the fictional company of the demo, sells an IoT platform (software) and
edge gateways (hardware) to companies in Europe and the Americas. Everything here is
a small table; :mod:`leadscore.demo.leads` and :mod:`leadscore.demo.events` draw
from them.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE = "https://www.nimbusline.com"
COMPETITOR_DOMAIN = "rival-corp.com"
HISTORY_DAYS = 183.0  # events span about six months before as_of


@dataclass(frozen=True)
class Locale:
    """Where a lead is: language, country spellings, phone, domains, cities."""

    language: str
    weight: float
    countries: str  # spellings, most common first
    phone: str
    phone_digits: tuple[int, int]
    tld: str
    legal: str
    free_mail: str  # most common first
    cities: str  # "City: postal postal; City: postal"


LOCALES = (
    Locale("es", 20, "España|Spain|ES|ESPAÑA", "+34", (600_000_000, 699_999_999), ".es",
           " S.L.| S.A.", "gmail.com|hotmail.es|yahoo.es|outlook.es",
           "Madrid: 28001 28010 28046; Sevilla: 41001 41004; Valencia: 46001 46021; "
           "Bilbao: 48001 48009; Zaragoza: 50001; Málaga: 29001"),
    Locale("ca", 10, "Espanya|España|ES|Spain", "+34", (600_000_000, 699_999_999), ".cat",
           " S.L.| S.A.", "gmail.com|hotmail.com|yahoo.es",
           "Barcelona: 08001 08008 08019 08036; Girona: 17001 17003; Lleida: 25001; "
           "Tarragona: 43001; Sabadell: 08201"),
    Locale("it", 13, "Italia|Italy|IT", "+39", (3_200_000_000, 3_499_999_999), ".it",
           " S.r.l.| S.p.A.", "gmail.com|libero.it|hotmail.it|yahoo.it",
           "Milano: 20121 20135; Roma: 00184 00198; Torino: 10121; Bologna: 40121; Napoli: 80121"),
    Locale("fr", 11, "France|FR|Francia", "+33", (600_000_000, 799_999_999), ".fr",
           " SAS| SARL", "gmail.com|orange.fr|free.fr|hotmail.fr",
           "Paris: 75001 75008 75015; Lyon: 69001 69003; Toulouse: 31000; Lille: 59000; "
           "Nantes: 44000"),
    Locale("de", 13, "Deutschland|Germany|DE|Alemania", "+49", (1_500_000_000, 1_799_999_999),
           ".de", " GmbH| AG", "gmx.de|web.de|gmail.com|yahoo.de",
           "Berlin: 10115 10559; München: 80331 80469; Hamburg: 20095; Stuttgart: 70173; "
           "Köln: 50667"),
    Locale("pt", 6, "Portugal|PT", "+351", (910_000_000, 969_999_999), ".pt", " Lda| S.A.",
           "gmail.com|sapo.pt|hotmail.com",
           "Lisboa: 1100-148 1250-096; Porto: 4000-322 4050-010; Braga: 4700-001"),
    Locale("en", 9, "United Kingdom|UK|GB|Reino Unido", "+44", (7_400_000_000, 7_999_999_999),
           ".co.uk", " Ltd| plc", "gmail.com|hotmail.co.uk|yahoo.co.uk|outlook.com",
           "London: EC1A_1BB SW1A_2AA E14_5AB; Manchester: M1_1AE; Birmingham: B1_1AA"),
    Locale("en", 13, "USA|United States|US|Estados Unidos", "+1", (2_000_000_000, 9_899_999_999),
           ".com", " Inc.| LLC", "gmail.com|yahoo.com|outlook.com|icloud.com",
           "New York: 10001 10016; Boston: 02108 02116; San Francisco: 94105; Chicago: 60601; "
           "Austin: 78701"),
    Locale("es", 5, "México|Mexico|MX", "+52", (5_500_000_000, 5_599_999_999), ".com.mx",
           " S.A. de C.V.", "gmail.com|hotmail.com|yahoo.com.mx",
           "Ciudad de México: 06600 03100; Monterrey: 64000; Guadalajara: 44100"),
)  # fmt: skip

LANGUAGES = ("en", "es", "ca", "it", "fr", "de", "pt")
FIRST_NAMES = {
    "en": "James Mary John Patricia Robert Jennifer Michael Linda David Emily Sarah Daniel Olivia",
    "es": "José María Carmen Javier Lucía Antonio Elena Pablo Marta Álvaro Sofía Andrés Íñigo",
    "ca": "Jordi Montserrat Núria Pau Laia Oriol Meritxell Arnau Mireia Joan Roser Xavier Berta",
    "it": "Giuseppe Giulia Marco Francesca Luca Chiara Alessandro Sofia Matteo Federica Niccolò",
    "fr": "Jean Marie Pierre Camille Louis Chloé Thomas Léa Hugo Manon Nicolas Élodie François",
    "de": "Hans Anna Klaus Ursula Jürgen Katrin Stefan Lena Maximilian Sophie Lukas Björn Jörg",
    "pt": "João Ana Pedro Beatriz Miguel Inês Tiago Mariana Rui Carolina Gonçalo Leonor Sónia",
}
LAST_NAMES = {
    "en": "Smith Johnson Williams Brown Jones Taylor Davies Wilson Evans Miller Clark Walker",
    "es": "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Jiménez Muñoz",
    "ca": "Puig Vilaró Ferrer Soler Casals Font Vidal Pujol Roca Serra Riera Bosch Coll Mas",
    "it": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo",
    "fr": "Martin Bernard Dubois Petit Durand Leroy Moreau Lefèvre Girard Fontaine Rousseau",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Schäfer Koch Groß",
    "pt": "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Gonçalves Gomes",
}
SENIORITIES = ("c_level", "vp", "director", "manager", "individual", "student")
TITLES = {  # language -> one "|"-list per seniority, in SENIORITIES order
    "en": ("CEO|Founder|Co-founder|Managing Director|Chief Technology Officer|COO|Owner",
           "VP Sales|VP of Engineering|Vice President Operations|VP Marketing",
           "Head of Marketing|Head of IT|Director of Operations|Sales Director|IT Director"
           "|Head of Procurement",
           "Marketing Manager|IT Manager|Procurement Manager|Operations Manager|Project Manager"
           "|Product Manager",
           "Software Engineer|Data Analyst|Sales Representative|Buyer|Consultant|Accountant"
           "|Field Technician|Office Administrator",
           "Student|Intern|Graduate Student"),
    "es": ("Director general|Directora general|Consejero delegado|CEO|Fundador",
           "Vicepresidente de ventas|Vicepresidenta de operaciones",
           "Directora de marketing|Director de operaciones|Director de sistemas"
           "|Directora comercial|Director de compras",
           "Jefe de compras|Jefa de proyectos|Responsable de IT|Jefe de mantenimiento",
           "Ingeniero de software|Analista de datos|Comercial|Técnico de mantenimiento"
           "|Administrativa|Consultor",
           "Estudiante|Becario|Becaria"),
    "ca": ("Conseller delegat|Director general|Directora general|Fundadora",
           "Vicepresident comercial",
           "Directora de màrqueting|Director d'operacions|Director de sistemes",
           "Cap de compres|Responsable de sistemes|Cap de projectes",
           "Enginyer de programari|Tècnic de manteniment|Analista de dades|Administratiu",
           "Estudiant|Becari"),
    "it": ("Amministratore delegato|CEO|Fondatore|Direttore generale",
           "Vicepresidente vendite",
           "Direttore commerciale|Direttrice marketing|Direttore tecnico|Direttore IT",
           "Responsabile acquisti|Responsabile IT|Project manager|Responsabile logistica",
           "Ingegnere informatico|Analista dati|Tecnico|Impiegata amministrativa|Consulente",
           "Studente|Studentessa|Stagista"),
    "fr": ("Directeur général|Directrice générale|PDG|Fondatrice",
           "Vice-président des ventes",
           "Directrice marketing|Directeur des opérations|Directeur informatique"
           "|Directeur commercial",
           "Responsable des achats|Chef de projet|Responsable informatique",
           "Ingénieur logiciel|Analyste de données|Commercial|Technicien de maintenance|Comptable",
           "Étudiant|Étudiante|Stagiaire"),
    "de": ("Geschäftsführer|Geschäftsführerin|Vorstandsvorsitzender|Inhaber",
           "Vice President Vertrieb",
           "Leiter Marketing|Leiterin IT|Vertriebsleiter|Bereichsleiter Produktion",
           "Teamleiter Einkauf|Projektmanager|IT-Manager|Teamleiterin Logistik",
           "Softwareentwickler|Datenanalyst|Vertriebsmitarbeiter|Servicetechniker"
           "|Sachbearbeiterin",
           "Student|Studentin|Werkstudent|Praktikant"),
    "pt": ("Diretor geral|Diretora executiva|CEO|Fundador",
           "Vice-presidente comercial",
           "Diretora de marketing|Diretor de operações|Diretor de TI",
           "Gerente de compras|Gestor de projetos|Responsável de TI",
           "Engenheiro de software|Analista de dados|Técnico de manutenção"
           "|Assistente administrativa",
           "Estudante|Estagiário"),
}  # fmt: skip
SENIORITY_WEIGHTS = (0.08, 0.05, 0.13, 0.22, 0.52, 0.0)
INDUSTRIES = (  # (industry, weight); the first four are the demo's target industries
    ("software", 14), ("manufacturing", 14), ("logistics", 9), ("energy", 6),
    ("telecommunications", 4), ("retail", 9), ("healthcare", 7), ("financial services", 8),
    ("food & beverage", 5), ("construction", 5), ("education", 5), ("government", 3),
    ("consulting", 6),
)  # fmt: skip
SOURCES = (
    ("organic", 24), ("paid_search", 14), ("linkedin", 12), ("webinar", 8), ("referral", 8),
    ("trade_show", 7), ("partner", 5), ("purchased_list", 7), ("direct", 12),
    ("content_syndication", 3),
)  # fmt: skip
COMPANY_STEMS = (  # company names are a stem and an ending
    "Acme Nova Tecno Iber Alpen Nord Sol Vega Atlas Orion Delta Fenix Lumen Terra Astra Volta "
    "Kappa Aria Cobalt Quadra Zenit Mistral Sierra Polar Vertex Brio Lince Dolo Rhein Tago Onda "
    "Prisma"
)
COMPANY_ENDINGS = (
    "tech logistics data works systems foods energia group motion labs trans net parts soft "
    "retail health finance build log cloud fab steel line move power pharma media mobil"
)
ROLE_LOCALS = ("info", "sales", "contact", "hello", "admin")
DISPOSABLE_DOMAINS = ("mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com")

# Event types (with the web ones, which come in sessions) and their mix per profile:
# 0 ordinary lead, 1 hot lead (or a competitor snooping), 2 student or job seeker.
TYPES = ("page_view", "email_open", "email_click", "video_play", "download", "form_submit",
         "webinar", "demo_request", "unsubscribe")  # fmt: skip
WEB_TYPES = ("page_view", "video_play", "download", "form_submit", "demo_request")
TYPE_MIX = (  # per profile, in TYPES order
    (0.664, 0.16, 0.05, 0.05, 0.03, 0.025, 0.012, 0.003, 0.006),
    (0.61, 0.12, 0.07, 0.07, 0.06, 0.04, 0.015, 0.015, 0.0),
    (0.78, 0.08, 0.02, 0.05, 0.04, 0.02, 0.005, 0.0, 0.005),
)
URLS = (  # (type, path, weight, product)
    ("page_view", "/", 14, None), ("page_view", "/product/platform", 8, "platform"),
    ("page_view", "/product/platform/features", 4, "platform"),
    ("page_view", "/product/gateway-g2", 6, "gateway"),
    ("page_view", "/product/gateway-g2/specs", 3, "gateway"),
    ("page_view", "/product/analytics", 5, "analytics"),
    ("page_view", "/product/integrations", 3, "platform"), ("page_view", "/pricing", 5, None),
    ("page_view", "/pricing?plan=enterprise", 1.5, None), ("page_view", "/es/precios", 1, None),
    ("page_view", "/de/preise", 0.7, None), ("page_view", "/it/prezzi", 0.5, None),
    ("page_view", "/fr/tarifs", 0.5, None), ("page_view", "/contact", 2.5, None),
    ("page_view", "/demo", 1.5, None), ("page_view", "/customers", 3, None),
    ("page_view", "/customers/logistics-fleet-story", 2, "platform"),
    ("page_view", "/blog/edge-computing-explained", 3, "gateway"),
    ("page_view", "/blog/predictive-maintenance-roi", 3, "analytics"),
    ("page_view", "/blog/iot-security-checklist", 2, "platform"),
    ("page_view", "/es/blog/mantenimiento-predictivo", 1.5, "analytics"),
    ("page_view", "/docs/getting-started", 3, "platform"),
    ("page_view", "/docs/api", 2, "platform"),
    ("page_view", "/docs/gateway-g2/installation", 1.5, "gateway"),
    ("page_view", "/careers", 1.5, None), ("page_view", "/careers/backend-engineer", 0.7, None),
    ("page_view", "/about", 3, None), ("page_view", "/security", 1.5, None),
    ("page_view", "/partners", 1, None),
    ("video_play", "/videos/platform-tour", 4, "platform"),
    ("video_play", "/videos/gateway-g2-unboxing", 3, "gateway"),
    ("video_play", "/videos/analytics-in-5-minutes", 3, "analytics"),
    ("video_play", "/videos/customer-story-logistics", 2, None),
    ("download", "/downloads/gateway-g2-datasheet.pdf", 4, "gateway"),
    ("download", "/downloads/security-whitepaper.pdf", 3, "platform"),
    ("download", "/downloads/predictive-maintenance-ebook.pdf", 3, "analytics"),
    ("download", "/downloads/price-list-2026.pdf", 1, None),
    ("download", "/downloads/roi-calculator.xlsx", 1.5, "analytics"),
    ("form_submit", "/contact", 3, None), ("form_submit", "/newsletter", 5, None),
    ("form_submit", "/webinars/register", 3, None), ("form_submit", "/trial", 2, "platform"),
    ("form_submit", "/quote", 1.5, "gateway"), ("form_submit", "/careers/apply", 0.5, None),
    ("demo_request", "/demo", 3, "platform"),
    ("demo_request", "/demo?product=gateway-g2", 1, "gateway"),
    ("email_click", "/product/platform?utm_medium=email", 3, "platform"),
    ("email_click", "/blog/predictive-maintenance-roi?utm_medium=email", 3, "analytics"),
    ("email_click", "/pricing?utm_medium=email", 1.5, None),
    ("email_click", "/webinars/edge-ai-2026?utm_medium=email", 2, "gateway"),
    ("email_click", "/product/gateway-g2?utm_medium=email", 2, "gateway"),
)  # fmt: skip
URL_BOOSTS = (  # per profile: (part of the path, weight multiplier)
    (),
    (("/pricing", 6), ("/precios", 6), ("/preise", 6), ("/prezzi", 6), ("/tarifs", 6),
     ("/contact", 6), ("/demo", 8), ("/product/", 2.5), ("/docs/", 1.5), ("/customers", 2),
     ("price-list", 8), ("/quote", 6), ("/trial", 4), ("/careers", 0.05), ("/newsletter", 0.3)),
    (("/careers", 15), ("/careers/apply", 4), ("/blog/", 3), ("/pricing", 0.2), ("/contact", 0.3),
     ("/demo", 0.05), ("price-list", 0.1), ("/quote", 0.05), ("/trial", 0.3)),
)  # fmt: skip
WEBINARS = (("webinar-edge-ai-2026", "gateway"), ("webinar-predictive-maintenance", "analytics"),
            ("webinar-platform-onboarding", "platform"))  # fmt: skip
NURTURE = ("nurture-platform-trial", "nurture-gateway-launch")
