#!/usr/bin/env python3
"""Drives a running Steward through the pyopenproject client (PyPI 0.7.4).

Usage:
    pyopenproject_check.py [BASE_URL [API_TOKEN]]

BASE_URL and API_TOKEN may also come from STEWARD_BASE_URL and
STEWARD_API_TOKEN; the token must belong to an administrator. The instance
must have a project with the identifier STEWARD_PROJECT (default "pyop")
and an active user STEWARD_MEMBER_LOGIN (default "member1") who is not a
member of it.

The client is used only through its public API, exactly as an application
would use it. Every check prints one line; the first failure prints what
failed and the script exits with status 1. The last line is
"N passed, M failed".
"""

import os
import secrets
import sys
import traceback

from pyopenproject.business.exception.business_error import BusinessError
from pyopenproject.business.util.filter import Filter
from pyopenproject.model.activity import Activity
from pyopenproject.model.membership import Membership
from pyopenproject.model.priority import Priority
from pyopenproject.model.project import Project
from pyopenproject.model.role import Role
from pyopenproject.model.status import Status
from pyopenproject.model.type import Type
from pyopenproject.model.user import User
from pyopenproject.model.work_package import WorkPackage
from pyopenproject.openproject import OpenProject

# More than one page (the default page size is 20): listing them makes the
# client follow `nextByOffset`.
BULK = 21


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


def href(obj, name):
    """The href of the link `name` of a resource returned by the client."""
    link = obj.__dict__.get("_links", {}).get(name)
    if isinstance(link, dict):
        return link.get("href")
    return None


def hrefs(obj, name):
    return [link.get("href") for link in obj.__dict__.get("_links", {}).get(name, [])]


def last_id(h):
    return int(str(h).rstrip("/").rsplit("/", 1)[-1])


class Runner:
    def __init__(self):
        self.passed = 0

    def check(self, name, fn):
        """Runs one check; on failure reports it and stops the whole run."""
        try:
            detail = fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            print(f"FAIL  {name}: {type(e).__name__}: {e}", flush=True)
            cause = e.__cause__
            while cause is not None:
                print(f"      caused by {type(cause).__name__}: {cause}", flush=True)
                cause = cause.__cause__
            traceback.print_exc(file=sys.stdout)
            print(f"{self.passed} passed, 1 failed", flush=True)
            sys.exit(1)
        self.passed += 1
        print(f"ok    {name}" + (f" ({detail})" if detail else ""), flush=True)
        return detail


def main():
    args = sys.argv[1:]
    base = args[0] if len(args) > 0 else os.environ.get("STEWARD_BASE_URL")
    token = args[1] if len(args) > 1 else os.environ.get("STEWARD_API_TOKEN")
    if not base or not token:
        print(__doc__)
        print("error: a base URL and an API token are needed", file=sys.stderr)
        return 2
    base = base.rstrip("/")
    identifier = os.environ.get("STEWARD_PROJECT", "pyop")
    member_login = os.environ.get("STEWARD_MEMBER_LOGIN", "member1")
    # Makes the subjects of this run unique, so that filters match exactly.
    tag = "run" + secrets.token_hex(4)

    op = OpenProject(url=base, api_key=token)
    projects = op.get_project_service()
    wps = op.get_work_package_service()
    memberships = op.get_membership_service()
    users = op.get_user_service()
    roles = op.get_role_service()
    statuses = op.get_status_service()
    types = op.get_type_service()
    priorities = op.get_priority_service()
    activities = op.get_activity_service()
    principals = op.get_principal_service()

    r = Runner()
    s = {}  # what later checks need from earlier ones

    # ------------------------------------------------------------ reference data

    def list_statuses():
        found = statuses.find_all()
        expect(len(found) >= 2, f"at least two statuses, got {len(found)}")
        for x in found:
            expect_eq(x._type, "Status", "_type of a status")
        ids = [x.id for x in found]
        expect_eq(len(set(ids)), len(ids), "distinct status ids")
        s["statuses"] = found
        return f"{len(found)} statuses: " + ", ".join(x.name for x in found)

    def find_status():
        first = s["statuses"][0]
        one = statuses.find(Status({"id": first.id}))
        expect_eq((one._type, one.id, one.name), ("Status", first.id, first.name), "status")

    def list_types():
        found = types.find_all()
        expect(len(found) >= 1, "at least one type")
        for x in found:
            expect_eq(x._type, "Type", "_type of a type")
        one = types.find(Type({"id": found[0].id}))
        expect_eq((one.id, one.name), (found[0].id, found[0].name), "the type found by id")
        s["types"] = found
        return f"{len(found)} types"

    def list_priorities():
        found = priorities.find_all()
        expect(len(found) >= 1, "at least one priority")
        for x in found:
            expect_eq(x._type, "Priority", "_type of a priority")
        one = priorities.find(Priority({"id": found[-1].id}))
        expect_eq((one.id, one.name), (found[-1].id, found[-1].name), "the priority found by id")
        return f"{len(found)} priorities"

    def list_roles():
        found = roles.find_all()
        expect(len(found) >= 2, "at least two roles")
        for x in found:
            expect_eq(x._type, "Role", "_type of a role")
        one = roles.find(Role({"id": found[0].id}))
        expect_eq((one.id, one.name), (found[0].id, found[0].name), "the role found by id")
        grantable = roles.find_all(
            filters=[Filter("grantable", "=", ["true"]), Filter("unit", "=", ["project"])]
        )
        expect(len(grantable) >= 2, f"at least two grantable project roles, got {len(grantable)}")
        expect(len(grantable) <= len(found), "the filter does not add roles")
        all_ids = {x.id for x in found}
        expect(all(x.id in all_ids for x in grantable), "filtered roles are roles")
        s["project_roles"] = grantable
        return f"{len(found)} roles, {len(grantable)} grantable in projects"

    def list_users():
        found = users.find_all()
        for x in found:
            expect_eq(x._type, "User", "_type of a user")
        logins = [getattr(x, "login", None) for x in found]
        expect("admin" in logins, f"admin among the users {logins}")
        expect(member_login in logins, f"{member_login} among the users {logins}")
        member = next(x for x in found if getattr(x, "login", None) == member_login)
        s["member"] = member
        one = users.find(User({"id": member.id}))
        expect_eq((one.id, one.login), (member.id, member_login), "the user found by id")
        by_login = users.find_all(filters=[Filter("login", "=", [member_login])])
        expect_eq([x.id for x in by_login], [member.id], "users filtered by login")
        return f"{len(found)} users"

    def list_principals():
        found = principals.find_all()
        ids = [x.id for x in found]
        expect(s["member"].id in ids, f"user {s['member'].id} among the principals {ids}")
        return f"{len(found)} principals"

    r.check("statuses: find_all", list_statuses)
    r.check("statuses: find", find_status)
    r.check("types: find_all, find", list_types)
    r.check("priorities: find_all, find", list_priorities)
    r.check("roles: find_all, find, find_all with filters", list_roles)
    r.check("users: find_all, find, find_all with a login filter", list_users)
    r.check("principals: find_all", list_principals)

    # ------------------------------------------------------------ projects

    def list_projects():
        found = projects.find_all()
        for x in found:
            expect_eq(x._type, "Project", "_type of a project")
        idents = [x.identifier for x in found]
        expect(identifier in idents, f"project {identifier!r} among {idents}")
        s["project"] = next(x for x in found if x.identifier == identifier)
        return f"{len(found)} projects"

    def find_project():
        p = projects.find(Project({"id": s["project"].id}))
        expect_eq((p._type, p.id, p.identifier), ("Project", s["project"].id, identifier), "project")
        expect_eq(href(p, "self"), f"/api/v3/projects/{p.id}", "the project's self link")
        s["project"] = p
        s["project_href"] = href(p, "self")
        return f"id {p.id}, {p.name!r}"

    def project_types():
        found = projects.find_types(s["project"])
        expect(len(found) >= 1, "the project has a type")
        all_ids = {x.id for x in s["types"]}
        expect(all(x.id in all_ids for x in found), "the project's types are types")
        # Prefer a type that is not a milestone, whose dates are simpler.
        plain = [x for x in found if not getattr(x, "isMilestone", False)] or found
        s["type_href"] = href(plain[0], "self")
        return f"{len(found)} types, using {plain[0].name!r}"

    def project_versions():
        found = projects.find_versions(s["project"])
        expect(isinstance(found, list), "a list of versions")
        return f"{len(found)} versions"

    r.check("projects: find_all", list_projects)
    r.check("projects: find", find_project)
    r.check("projects: find_types", project_types)
    r.check("projects: find_versions", project_versions)

    # ------------------------------------------------------------ work packages

    def new_work_package(subject):
        """The client's own create path: the form, then create with its payload."""
        form = wps.create_form()
        expect_eq(form._type, "Form", "_type of the create form")
        wp = WorkPackage(form._embedded["payload"])
        wp.subject = subject
        links = wp.__dict__.setdefault("_links", {})
        links["project"] = {"href": s["project_href"]}
        links["type"] = {"href": s["type_href"]}
        return wps.create(wp)

    def count_in_project():
        found = projects.find_work_packages(s["project"])
        s["count_before"] = len(found)
        return f"{len(found)} before"

    def create_main():
        subject = f"pyopenproject {tag} main"
        wp = new_work_package(subject)
        expect_eq(wp._type, "WorkPackage", "_type of the new work package")
        expect(isinstance(wp.id, int) and wp.id > 0, f"an id, got {wp.id!r}")
        expect_eq(wp.subject, subject, "subject")
        expect_eq(href(wp, "project"), s["project_href"], "project link")
        expect_eq(href(wp, "type"), s["type_href"], "type link")
        expect(isinstance(wp.lockVersion, int), "a lockVersion")
        s["main"] = wp
        return f"id {wp.id}, status {href(wp, 'status')}"

    def create_in_project():
        # The project's own form and collection: /projects/{id}/work_packages.
        subject = f"pyopenproject {tag} in project"
        form = projects.create_work_package_form(s["project"], WorkPackage({"subject": subject}))
        expect_eq(form._type, "Form", "_type of the project's create form")
        payload = form._embedded["payload"]
        expect_eq(payload.get("subject"), subject, "the form's payload keeps the subject")
        wp = WorkPackage(payload)
        wp.__dict__.setdefault("_links", {})["type"] = {"href": s["type_href"]}
        made = projects.create_work_package(s["project"], wp)
        expect_eq(made._type, "WorkPackage", "_type")
        expect_eq(made.subject, subject, "subject")
        expect_eq(href(made, "project"), s["project_href"], "project link")
        s["in_project"] = made
        return f"id {made.id}"

    def read_back():
        wp = wps.find(WorkPackage({"id": s["main"].id}))
        expect_eq(wp.id, s["main"].id, "id")
        expect_eq(wp.subject, s["main"].subject, "subject")
        expect_eq(wp.lockVersion, s["main"].lockVersion, "lockVersion")
        expect_eq(href(wp, "status"), href(s["main"], "status"), "status link")
        s["main"] = wp

    def update_whole_document():
        wp = s["main"]
        current = href(wp, "status")
        others = [x for x in s["statuses"] if href(x, "self") != current]
        preferred = [x for x in others if not getattr(x, "isClosed", False)] or others
        target = preferred[0]
        old_lock = wp.lockVersion
        wp.subject = f"pyopenproject {tag} main renamed"
        wp._links["status"] = {"href": href(target, "self")}
        updated = wps.update(wp)
        expect_eq(updated.id, wp.id, "id")
        expect_eq(updated.subject, f"pyopenproject {tag} main renamed", "subject")
        expect_eq(href(updated, "status"), href(target, "self"), "status link")
        expect(updated.lockVersion > old_lock, f"lockVersion grows: {old_lock} -> {updated.lockVersion}")
        s["main"] = updated
        s["main_status"] = target
        s["stale_lock"] = old_lock
        return f"status {target.name!r}, lockVersion {old_lock} -> {updated.lockVersion}"

    def update_stale():
        stale = WorkPackage(
            {"id": s["main"].id, "lockVersion": s["stale_lock"], "subject": "must not be saved"}
        )
        try:
            wps.update(stale)
        except BusinessError as e:
            msg = str(e.__cause__ or e)
            expect("UpdateConflict" in msg or "409" in msg, f"a conflict, got {msg!r}")
            return "rejected as a conflict"
        raise CheckFailed("an update with an old lockVersion was accepted")

    def update_minimal():
        wp = WorkPackage(
            {
                "id": s["main"].id,
                "lockVersion": s["main"].lockVersion,
                "subject": f"pyopenproject {tag} main final",
            }
        )
        updated = wps.update(wp)
        expect_eq(updated.subject, f"pyopenproject {tag} main final", "subject")
        expect_eq(href(updated, "status"), href(s["main_status"], "self"), "status unchanged")
        again = wps.find(WorkPackage({"id": s["main"].id}))
        expect_eq(again.subject, updated.subject, "subject read back")
        expect_eq(again.lockVersion, updated.lockVersion, "lockVersion read back")
        s["main"] = again

    def create_bulk():
        made = [new_work_package(f"pyopenproject {tag} bulk {i:02d}") for i in range(BULK)]
        ids = [x.id for x in made]
        expect_eq(len(set(ids)), BULK, "distinct ids")
        s["bulk"] = made
        return f"ids {ids[0]}..{ids[-1]}"

    def filter_subject():
        found = wps.find_all(filters=[Filter("subject", "~", [f"{tag} bulk"])])
        got = sorted(x.id for x in found)
        expect_eq(got, sorted(x.id for x in s["bulk"]), "work packages whose subject matches")
        return f"{len(found)} over two pages"

    def filter_status():
        found = wps.find_all(
            filters=[
                Filter("status", "=", [str(s["main_status"].id)]),
                Filter("subject", "~", [tag]),
            ]
        )
        expect_eq([x.id for x in found], [s["main"].id], "work packages with the new status")

    def sort_desc():
        found = wps.find_all(
            filters=[Filter("subject", "~", [f"{tag} bulk"])], sort_by='[["id","desc"]]'
        )
        ids = [x.id for x in found]
        expect_eq(ids, sorted((x.id for x in s["bulk"]), reverse=True), "ids in descending order")

    def sort_without_filters():
        # No filters: the client sends `?&sortBy=...`.
        found = wps.find_all(sort_by='[["id","asc"]]')
        ids = [x.id for x in found]
        expect_eq(ids, sorted(ids), "ids in ascending order")
        expect(s["main"].id in ids, "the new work package is listed")
        return f"{len(ids)} work packages"

    def show_sums():
        found = wps.find_all(filters=[Filter("subject", "~", [f"{tag} main"])], show_sums=True)
        expect_eq([x.id for x in found], [s["main"].id], "work packages with showSums=True")

    def project_work_packages():
        found = projects.find_work_packages(s["project"])
        expect_eq(len(found), s["count_before"] + 2 + BULK, "work packages in the project")
        mine = projects.find_work_packages(
            s["project"], filters=[Filter("status", "=", [str(s["main_status"].id)])]
        )
        expect(s["main"].id in [x.id for x in mine], "the project's filtered list has it")
        return f"{len(found)} in the project"

    def delete_one():
        victim = s["bulk"].pop(0)
        wps.delete(victim)
        try:
            wps.find(WorkPackage({"id": victim.id}))
        except BusinessError:
            pass
        else:
            raise CheckFailed(f"work package {victim.id} is still there")
        # Now exactly one full page: the client must stop after it.
        found = wps.find_all(filters=[Filter("subject", "~", [f"{tag} bulk"])])
        expect_eq(len(found), BULK - 1, "the rest")
        return f"deleted {victim.id}"

    r.check("work packages: find_work_packages of the project", count_in_project)
    r.check("work packages: create_form + create", create_main)
    r.check("projects: create_work_package_form + create_work_package", create_in_project)
    r.check("work packages: find", read_back)
    r.check("work packages: update subject and status (whole document)", update_whole_document)
    r.check("work packages: update with an old lockVersion", update_stale)
    r.check("work packages: update with id, lockVersion and subject only", update_minimal)
    r.check(f"work packages: create {BULK} more", create_bulk)
    r.check("work packages: find_all filtered by subject (two pages)", filter_subject)
    r.check("work packages: find_all filtered by status and subject", filter_status)
    r.check("work packages: find_all sorted by id descending", sort_desc)
    r.check("work packages: find_all sorted, without filters", sort_without_filters)
    r.check("work packages: find_all with show_sums", show_sums)
    r.check("projects: find_work_packages, with a filter", project_work_packages)
    r.check("work packages: delete", delete_one)

    # ------------------------------------------------------------ activities

    def comment():
        text = f"A comment from pyopenproject, {tag}"
        act = wps.create_activity(s["main"], text)
        expect_eq(act._type, "Activity::Comment", "_type of the new activity")
        expect_eq(act.comment["raw"], text, "comment")
        expect_eq(href(act, "workPackage"), f"/api/v3/work_packages/{s['main'].id}", "its work package")
        s["comment"] = act
        return f"activity {act.id}"

    def list_activities():
        found = wps.find_activities(s["main"])
        expect(len(found) >= 3, f"creation, changes and the comment, got {len(found)}")
        expect_eq(found[-1].id, s["comment"].id, "the comment is the last activity")
        expect_eq(found[-1].comment["raw"], s["comment"].comment["raw"], "its text")
        for x in found:
            expect(x._type in ("Activity", "Activity::Comment"), f"_type of an activity: {x._type}")
        return f"{len(found)} activities"

    def find_activity():
        act = activities.find(Activity({"id": s["comment"].id}))
        expect_eq((act.id, act.comment["raw"]), (s["comment"].id, s["comment"].comment["raw"]), "activity")
        s["comment"] = act

    def edit_comment():
        act = s["comment"]
        text = f"An edited comment, {tag}"
        act.comment["raw"] = text
        edited = activities.update(act)
        expect_eq(edited.comment["raw"], text, "edited comment")
        found = wps.find_activities(s["main"])
        expect_eq(found[-1].comment["raw"], text, "the edited comment in the list")

    r.check("activities: create_activity (comment)", comment)
    r.check("activities: find_activities", list_activities)
    r.check("activities: find", find_activity)
    r.check("activities: update (edit the comment)", edit_comment)

    # ------------------------------------------------------------ memberships

    project_filter = [Filter("project", "=", [str(s["project"].id)])]
    member_href = f"/api/v3/users/{s['member'].id}"
    role_a, role_b = (href(x, "self") for x in s["project_roles"][:2])

    def list_memberships():
        found = memberships.find_all()
        for x in found:
            expect_eq(x._type, "Membership", "_type of a membership")
        in_project = memberships.find_all(filters=project_filter)
        expect(
            all(href(x, "project") == s["project_href"] for x in in_project),
            "the project filter keeps the project's memberships only",
        )
        expect(
            member_href not in [href(x, "principal") for x in in_project],
            f"{member_login} is not yet a member",
        )
        s["members_before"] = len(in_project)
        return f"{len(found)} in all, {len(in_project)} in the project"

    def create_membership():
        m = Membership(
            {
                "_links": {
                    "project": {"href": s["project_href"]},
                    "principal": {"href": member_href},
                    "roles": [{"href": role_a}],
                }
            }
        )
        made = memberships.create(m)
        expect_eq(made._type, "Membership", "_type")
        expect_eq(href(made, "project"), s["project_href"], "project")
        expect_eq(href(made, "principal"), member_href, "principal")
        expect_eq(hrefs(made, "roles"), [role_a], "roles")
        s["membership"] = made
        return f"membership {made.id}"

    def find_membership():
        m = memberships.find(Membership({"id": s["membership"].id}))
        expect_eq(m.id, s["membership"].id, "id")
        expect_eq(hrefs(m, "roles"), [role_a], "roles")
        in_project = memberships.find_all(filters=project_filter)
        expect_eq(len(in_project), s["members_before"] + 1, "memberships in the project")
        by_principal = memberships.find_all(
            filters=project_filter + [Filter("principal", "=", [str(s["member"].id)])]
        )
        expect_eq([x.id for x in by_principal], [m.id], "memberships of the member")

    def update_unchanged():
        # The client strips `_links` (and so the roles) before it PATCHes.
        m = memberships.find(Membership({"id": s["membership"].id}))
        same = memberships.update(m)
        expect_eq(same.id, s["membership"].id, "id")
        expect_eq(hrefs(same, "roles"), [role_a], "roles unchanged")

    def update_roles():
        # `_links` never reaches the server from this client; the roles go
        # at the top level, where the server also reads them.
        m = Membership({"id": s["membership"].id, "roles": [{"href": role_b}]})
        updated = memberships.update(m)
        expect_eq(updated.id, s["membership"].id, "id")
        expect_eq(hrefs(updated, "roles"), [role_b], "roles after the update")
        again = memberships.find(Membership({"id": s["membership"].id}))
        expect_eq(hrefs(again, "roles"), [role_b], "roles read back")
        return f"{role_a} -> {role_b}"

    def delete_membership():
        memberships.delete(s["membership"])
        try:
            memberships.find(Membership({"id": s["membership"].id}))
        except BusinessError:
            pass
        else:
            raise CheckFailed(f"membership {s['membership'].id} is still there")
        in_project = memberships.find_all(filters=project_filter)
        expect_eq(len(in_project), s["members_before"], "memberships in the project")

    r.check("memberships: find_all, with a project filter", list_memberships)
    r.check("memberships: create", create_membership)
    r.check("memberships: find, find_all with filters", find_membership)
    r.check("memberships: update as read (links stripped by the client)", update_unchanged)
    r.check("memberships: update the roles", update_roles)
    r.check("memberships: delete", delete_membership)

    # ------------------------------------------------------------ users

    def update_user():
        # The whole document as read, minus what the client strips.
        u = users.find(User({"id": s["member"].id}))
        u.firstName = f"Renamed {tag}"
        updated = users.update(u)
        expect_eq((updated.id, updated.firstName), (s["member"].id, f"Renamed {tag}"), "user")
        again = users.find(User({"id": s["member"].id}))
        expect_eq(again.firstName, f"Renamed {tag}", "first name read back")

    def lock_unlock():
        locked = users.lock(User({"id": s["member"].id}))
        expect_eq((locked.id, locked.status), (s["member"].id, "locked"), "user after lock")
        unlocked = users.unlock(User({"id": s["member"].id}))
        expect_eq((unlocked.id, unlocked.status), (s["member"].id, "active"), "user after unlock")

    r.check("users: update (whole document)", update_user)
    r.check("users: lock, unlock", lock_unlock)

    print(f"{r.passed} passed, 0 failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
