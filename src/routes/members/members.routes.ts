import { crudRoutes } from "../../lib/crud-routes";
import {
  AddMemberBody,
  exampleMemberId,
  ListMembersQuery,
  MemberEnvelope,
  MemberPage,
  UpdateMemberBody,
  UserIdParams,
} from "./members.schemas";

export const { list, create, getOne, patch, remove } = crudRoutes({
  path: "/v1/members",
  param: "userId",
  tag: "Team",
  noun: { one: "member", many: "members" },
  scopes: { read: "team:read", write: "team:admin" },
  schemas: {
    listQuery: ListMembersQuery,
    envelope: MemberEnvelope,
    page: MemberPage,
    createBody: AddMemberBody,
    updateBody: UpdateMemberBody,
    params: UserIdParams,
  },
  exampleLocation: `/v1/members/${exampleMemberId}`,
  describe: {
    list: "The organization's members, active ones unless `status` says otherwise, A to Z by name whatever the case of ASCII letters (then in code point order: Ä after z; the e-mail address for a user without a name), then id; filter by `role`, `status` and `q`.",
    create:
      "Adds a person by e-mail address, compared case-insensitively. An address nobody has yet creates the user record: `id` is then the `sub` the identity provider signs their tokens with. An address someone already uses joins that user with the profile given here: what another organization knows of them is never shown nor changed. An active member is 409 `ALREADY_MEMBER` (`details.user_id` names them); a removed member is reinstated with the given role and keeps their history, and their profile unless the body gives a new name or avatar. Always 201, with `Location`.",
    getOne: "One member, active or removed.",
    patch:
      "Changes the member's role, or their name and avatar in this organization (`null` clears either; the address is not changed). A member may change their own profile, not their role (an OAuth token needs `team:admin` for this too). The organization keeps at least one active owner: demoting the last one is 409 `LAST_OWNER`, also when two owners demote each other at the same moment. A removed member is 409 `MEMBER_REMOVED`.",
    remove:
      "Offboarding, not deletion: the membership becomes `removed` with `removed_at`, and the user, their time entries, invoices and everything that shows them stay exactly as they are. Every token of theirs for this organization is 403 from their very next request; a running timer of theirs stops at the moment of removal (one whose start lies ahead stops a second after it). Owners and admins still list, filter (`user_id`), edit, invoice, summarize and export their entries; nobody can record new ones for them. Removing the last active owner is 409 `LAST_OWNER`; an already removed member is 409 `MEMBER_REMOVED`. A member may remove themselves (leave).",
  },
  writeRule:
    "Owners and admins manage members; only an owner changes an owner or grants `owner`, and a member may only change their own profile and remove themselves (otherwise 403 `FORBIDDEN`).",
  errors: {
    create: ["ALREADY_MEMBER"],
    patch: ["MEMBER_REMOVED", "LAST_OWNER"],
    remove: ["MEMBER_REMOVED", "LAST_OWNER"],
  },
  summaries: { create: "Add a member", remove: "Remove a member" },
  removed: "Removed: the membership is now `removed`.",
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
