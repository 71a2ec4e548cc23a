"""The portal's words in French (default) and English, and numbers in each language's format."""

from __future__ import annotations

import datetime as dt

from analytics.reports.i18n import format_date, format_number

LANGS = ("fr", "en")

T: dict[str, tuple[str, str]] = {
    "app.title": ("Terril — suivi énergétique", "Terril — energy monitoring"),
    "skip": ("Aller au contenu", "Skip to content"),
    "nav.overview": ("Vue d'ensemble", "Overview"),
    "nav.alerts": ("Alertes", "Alerts"),
    "nav.imports": ("Imports", "Imports"),
    "nav.reports": ("Rapports", "Reports"),
    "nav.tertiaire": ("Décret tertiaire", "Décret tertiaire"),
    "nav.pv": ("PV et déploiement", "PV and rollout"),
    "nav.devices": ("Appareils", "Devices"),
    "nav.public": ("Page publique", "Public page"),
    "nav.audit": ("Journal d'audit", "Audit log"),
    "nav.logout": ("Se déconnecter", "Log out"),
    "nav.main": ("Navigation principale", "Main navigation"),
    "lang.switch": ("English", "Français"),
    "login.title": ("Connexion", "Log in"),
    "login.user": ("Identifiant", "User name"),
    "login.password": ("Mot de passe", "Password"),
    "login.submit": ("Se connecter", "Log in"),
    "login.failed": ("Identifiant ou mot de passe incorrect.", "Wrong user name or password."),
    "login.limited": ("Trop de tentatives : réessayez dans quelques minutes.", "Too many attempts: try again in a few minutes."),
    "csrf.failed": ("Formulaire expiré ou invalide : rechargez la page.", "Form expired or invalid: reload the page."),
    "forbidden": ("Votre rôle ne permet pas cette action.", "Your role does not allow this."),
    "notfound": ("Page introuvable.", "Page not found."),
    "public.title": ("L'énergie de nos bâtiments publics", "The energy of our public buildings"),
    "public.intro": ("Ce que produisent les toits solaires de la commune et ce que consomment ses bâtiments publics, mis à jour en continu.",
                     "What the town's solar roofs produce and what its public buildings consume, updated continuously."),
    "public.pv_now": ("Production solaire maintenant", "Solar production now"),
    "public.pv_today": ("Aujourd'hui", "Today"),
    "public.pv_year": ("Cette année", "This year"),
    "public.co2": ("CO₂ évité cette année", "CO₂ avoided this year"),
    "public.rollout": ("Du banc d'essai à tous les toits", "From the test bench to every roof"),
    "public.rollout_intro": ("Chaque toit équipé, sa puissance crête et son année de mise en service.",
                             "Each equipped roof, its peak power and the year it was commissioned."),
    "public.kwp_chart": ("Puissance installée par année [kWc]", "Installed peak power per year [kWp]"),
    "public.buildings": ("Consommation des bâtiments", "Buildings' consumption"),
    "public.opendata": ("Données ouvertes", "Open data"),
    "public.opendata_intro": ("Consommation quotidienne par bâtiment (CSV), sous Licence Ouverte / Etalab 2.0.",
                              "Daily consumption per building (CSV), under the Licence Ouverte / Etalab 2.0."),
    "public.dictionary": ("Dictionnaire des données", "Data dictionary"),
    "public.updated": ("Mis à jour le", "Updated"),
    "public.monthly_chart": ("Consommation mensuelle [kWh]", "Monthly consumption [kWh]"),
    "public.savings": ("Économies mesurées", "Measured savings"),
    "public.disabled": ("La page publique n'est pas activée.", "The public page is not enabled."),
    "col.building": ("Bâtiment", "Building"),
    "col.roof": ("Toit", "Roof"),
    "col.stage": ("Étape", "Stage"),
    "col.year": ("Année", "Year"),
    "col.kwp": ("Puissance [kWc]", "Peak power [kWp]"),
    "col.kwp_planned": ("Prévu [kWc]", "Planned [kWp]"),
    "col.technology": ("Technologie", "Technology"),
    "col.status": ("État", "Status"),
    "col.month": ("Mois", "Month"),
    "col.kwh": ("Consommation [kWh]", "Consumption [kWh]"),
    "col.kwh_12m": ("12 derniers mois [kWh]", "Last 12 months [kWh]"),
    "col.avoided_kwh": ("Économisé [kWh]", "Saved [kWh]"),
    "col.avoided_eur": ("Économisé [€]", "Saved [€]"),
    "col.download": ("Télécharger", "Download"),
    "col.month_kwh": ("Ce mois [kWh]", "This month [kWh]"),
    "col.baseline_kwh": ("Référence [kWh]", "Baseline [kWh]"),
    "col.delta": ("Écart [%]", "Difference [%]"),
    "col.alerts": ("Alertes ouvertes", "Open alerts"),
    "col.quality": ("Couverture 7 j [%]", "Coverage 7 d [%]"),
    "col.pv_kwh": ("PV ce mois [kWh]", "PV this month [kWh]"),
    "col.tertiaire": ("Décret tertiaire", "Décret tertiaire"),
    "col.site": ("Site", "Site"),
    "col.meter": ("Compteur", "Meter"),
    "col.kind": ("Type", "Kind"),
    "col.state": ("État", "State"),
    "col.onset": ("Début", "Onset"),
    "col.magnitude": ("Ampleur [kWh/j]", "Magnitude [kWh/day]"),
    "col.magnitude_m3": ("Ampleur [m³/j]", "Magnitude [m³/day]"),
    "col.cost": ("Coût [€]", "Cost [€]"),
    "col.actions": ("Actions", "Actions"),
    "col.when": ("Quand", "When"),
    "col.who": ("Qui", "Who"),
    "col.what": ("Quoi", "What"),
    "col.comment": ("Commentaire", "Comment"),
    "col.device": ("Appareil", "Device"),
    "col.format": ("Format", "Format"),
    "col.last": ("Dernier message", "Last message"),
    "col.carrier": ("Énergie", "Carrier"),
    "col.line": ("Ligne", "Line"),
    "col.reason": ("Motif", "Reason"),
    "col.text": ("Texte", "Text"),
    "col.time": ("Horodatage", "Time"),
    "col.value": ("Valeur", "Value"),
    "col.file": ("Fichier", "File"),
    "col.kept": ("Gardées", "Kept"),
    "col.rejected": ("Rejetées", "Rejected"),
    "col.pages": ("Pages", "Pages"),
    "col.hash": ("Empreinte des données", "Input hash"),
    "col.messages": ("Messages", "Messages"),
    "col.date": ("Date", "Date"),
    "col.description": ("Description", "Description"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "never": ("jamais", "never"),
    "overview.title": ("Vue d'ensemble", "Overview"),
    "overview.month": ("Mois en cours", "Current month"),
    "alerts.title": ("Alertes", "Alerts"),
    "alerts.filter": ("Filtrer", "Filter"),
    "alerts.all": ("toutes", "all"),
    "alerts.ack": ("Prendre en compte", "Acknowledge"),
    "alerts.resolve": ("Résoudre", "Resolve"),
    "alerts.history": ("Historique", "History"),
    "alerts.none": ("Aucune alerte.", "No alerts."),
    "alerts.grafana": ("Tableau de bord Grafana du bâtiment", "Building's Grafana dashboard"),
    "state.open": ("ouverte", "open"),
    "state.acknowledged": ("prise en compte", "acknowledged"),
    "state.resolved": ("résolue", "resolved"),
    "building.daily": ("Consommation quotidienne et référence [kWh]", "Daily consumption and baseline [kWh]"),
    "building.total": ("Consommation (toutes énergies)", "Consumption (all carriers)"),
    "building.baseline": ("Référence (modèle)", "Baseline (model)"),
    "building.drift": ("Période de dérive", "Drift period"),
    "building.measures": ("Actions d'économie", "Energy measures"),
    "building.meters": ("Compteurs", "Meters"),
    "building.devices": ("Appareils", "Devices"),
    "building.sources": ("Sources des données", "Data sources"),
    "imports.title": ("Importer un fichier", "Import a file"),
    "imports.file": ("Fichier (CSV, JSON, XML, XLSX, ou compressé .gz)", "File (CSV, JSON, XML, XLSX, or gzipped)"),
    "imports.kind": ("Format", "Layout"),
    "imports.meter": ("Compteur", "Meter"),
    "imports.source": ("Origine (identifiant court, ex. enedis-2023)", "Source (short id, e.g. enedis-2023)"),
    "imports.preview": ("Aperçu", "Preview"),
    "imports.confirm": ("Confirmer l'import", "Confirm the import"),
    "imports.history": ("Historique des imports", "Import history"),
    "imports.done": ("Import enregistré : {n} point{n_s} écrit{n_s}.", "Import stored: {n} point{n_s} written."),
    "imports.nothing": ("Aucune ligne gardée : rien à importer.", "No row kept: nothing to import."),
    "imports.summary": ("{read} ligne{read_s} lue{read_s}, {kept} gardée{kept_s}, {rejected} rejetée{rejected_s}.",
                        "{read} row{read_s} read, {kept} kept, {rejected} rejected."),
    "imports.expired": ("Aperçu expiré : déposez le fichier à nouveau.", "Preview expired: upload the file again."),
    "reports.title": ("Rapports d'économies", "Savings reports"),
    "reports.sites": ("Bâtiments", "Buildings"),
    "reports.baseline": ("Période de référence", "Baseline period"),
    "reports.period": ("Période de suivi", "Reporting period"),
    "reports.lang": ("Langue", "Language"),
    "reports.format": ("Format", "Format"),
    "reports.generate": ("Générer", "Generate"),
    "reports.running": ("Génération en cours…", "Generating…"),
    "reports.step.load": ("Lecture des données", "Loading the data"),
    "reports.step.fit": ("Ajustement des modèles de référence", "Fitting the baseline models"),
    "reports.step.render": ("Mise en page", "Rendering"),
    "imports.unit": ("Unité (si le fichier n'en donne pas : kWh, Wh, W, m3, °C…)", "Unit (when the file gives none: kWh, Wh, W, m3, °C…)"),
    "tstatus.achieved": ("objectif 2030 atteint", "2030 target achieved"),
    "tstatus.on_track": ("dans la trajectoire", "on track"),
    "tstatus.late": ("en retard", "late"),
    "tstatus.no_data": ("données insuffisantes", "not enough data"),
    "rstatus.installed": ("en service", "in service"),
    "rstatus.planned": ("prévu", "planned"),
    "rstatus.overdue": ("en retard", "overdue"),
    "alerts.detected": ("détectée par Terril", "detected by Terril"),
    "reports.failed": ("Échec de la génération", "Generation failed"),
    "reports.list": ("Rapports générés", "Generated reports"),
    "reports.start": ("du", "from"),
    "reports.end": ("au", "to"),
    "tertiaire.title": ("Décret tertiaire", "Décret tertiaire"),
    "tertiaire.year": ("Année", "Year"),
    "tertiaire.operat": ("Export OPERAT (CSV)", "OPERAT export (CSV)"),
    "tertiaire.reference": ("Référence [kWh]", "Reference [kWh]"),
    "tertiaire.current": ("Année [kWh]", "Year [kWh]"),
    "tertiaire.reduction": ("Réduction [%]", "Reduction [%]"),
    "tertiaire.target": ("Objectif [%]", "Target [%]"),
    "tertiaire.path": ("Trajectoire −40 % / −50 % / −60 %", "−40 % / −50 % / −60 % path"),
    "tertiaire.chart": ("Trajectoires (année de référence = 100)", "Trajectories (reference year = 100)"),
    "tertiaire.show": ("Afficher", "Show"),
    "tertiaire.why": ("Pourquoi / que faire", "Why / what to do"),
    "tertiaire.origin": ("Origine des totaux", "Where the totals come from"),
    "tertiaire.origin.ref": ("réf. : {o}", "ref.: {o}"),
    "tertiaire.origin.year": ("année : {o}", "year: {o}"),
    "tertiaire.origin.measured": ("{n} j mesurés", "{n} measured days"),
    "tertiaire.origin.invoices": ("{n} j factures", "{n} invoice days"),
    "tertiaire.default_year": ("Par défaut : la dernière année passée où au moins un bâtiment a un statut.",
                               "By default: the latest past year in which at least one building has a status."),
    "pv.title": ("PV et déploiement", "PV and rollout"),
    "pv.funnel": ("De l'expérimentation à la massification", "From experimentation to massification"),
    "pv.technology": ("Comparaison des technologies", "Technology comparison"),
    "pv.roofs_equipped": ("Toits équipés", "Roofs equipped"),
    "pv.roofs_planned": ("Toits à venir", "Roofs to come"),
    "pv.yield": ("Productible moyen [kWh/kWc/j]", "Mean specific yield [kWh/kWp/d]"),
    "pv.arrays": ("Installations", "Arrays"),
    "pv.days": ("Jours", "Days"),
    "pv.technology_note": ("Productible journalier par kWc installé de chaque technologie sur les 365 derniers "
                           "jours : moyenne, 10e (P10) et 90e (P90) centiles des journées d'installation "
                           "couvertes à 90 % au moins.",
                           "Daily yield per installed kWp of each technology over the last 365 days: mean, "
                           "10th (P10) and 90th (P90) percentiles of the array-days at least 90 % covered."),
    "devices.title": ("Appareils", "Devices"),
    "devices.unmapped": ("Appareils inconnus", "Unmapped devices"),
    "devices.add": ("Ajouter", "Add"),
    "devices.added": ("Appareil ajouté. Identifiants MQTT (affichés une seule fois) :", "Device added. MQTT credentials (shown once):"),
    "devices.none_unmapped": ("Aucun appareil inconnu.", "No unmapped device."),
    "devices.no_free_meter": ("Tous les compteurs du registre ont déjà un appareil : déclarez d'abord le compteur dans le registre.",
                              "Every meter of the registry already has a device: declare the meter in the registry first."),
    "devices.id": ("Identifiant du nouvel appareil", "New device id"),
}


KINDS: dict[str, tuple[str, str]] = {
    "town_hall": ("mairie", "town hall"), "technical_services": ("services techniques", "technical services"),
    "pv_test_platform": ("plateforme d'essais PV", "PV test platform"), "church": ("église", "church"),
    "primary_school": ("école élémentaire", "primary school"), "nursery_school": ("école maternelle", "nursery school"),
    "sports_hall": ("salle de sports", "sports hall"), "library": ("médiathèque", "library"),
    "community_hall": ("salle des fêtes", "community hall"), "cultural_centre": ("centre culturel", "cultural centre"),
    "weather": ("station météo", "weather station"),
}


def carrier(name: str, lang: str) -> str:
    """A carrier's name in ``lang`` (the reports' labels)."""
    from analytics.reports.i18n import LABELS

    label = LABELS.get(f"carrier.{name}")
    return label[lang] if label else name


def kind(name: str, lang: str) -> str:
    """A site kind's name in ``lang``."""
    fr_en = KINDS.get(name)
    return (fr_en[0] if lang == "fr" else fr_en[1]) if fr_en else name.replace("_", " ")


#: PV technology codes of the registry (terril.registry.PvTechnology) → (French, English) names.
PV_TECHNOLOGIES: dict[str, tuple[str, str]] = {
    "mono_perc": ("silicium monocristallin PERC", "monocrystalline PERC silicon"),
    "polycrystalline": ("silicium polycristallin", "polycrystalline silicon"),
    "thin_film_cdte": ("couche mince CdTe", "CdTe thin film"),
    "thin_film_cigs": ("couche mince CIGS", "CIGS thin film"),
    "amorphous_si": ("silicium amorphe", "amorphous silicon"),
    "heterojunction": ("hétérojonction (HJT)", "heterojunction (HJT)"),
    "bifacial": ("bifacial", "bifacial"),
    "topcon": ("TOPCon", "TOPCon"),
    "hybrid_pvt": ("hybride photovoltaïque-thermique (PVT)", "hybrid photovoltaic-thermal (PVT)"),
}


def technology(code: str | None, lang: str) -> str:
    """A PV technology's name in ``lang`` (an unknown code as written, none as empty)."""
    if not code:
        return ""
    fr_en = PV_TECHNOLOGIES.get(code)
    return (fr_en[0] if lang == "fr" else fr_en[1]) if fr_en else code.replace("_", " ")


def translate(key: str, lang: str, **fmt: object) -> str:
    fr, en = T[key]
    text = fr if lang == "fr" else en
    return text.format(**fmt) if fmt else text


def num(value: float | None, lang: str, decimals: int = 0) -> str:
    """``1 234,5`` (fr) or ``1,234.5`` (en); ``—`` when unknown."""
    if value is None:
        return "—"
    return format_number(value, lang, decimals)


def date(value: dt.date | str | None, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, lang)
