import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import {
  atLeastOneField,
  Cursor,
  EmailAddress,
  Id,
  Limit,
  Name,
  PageMeta,
  Text,
  UtcTimestamp,
  WebUrl,
  webUrlFormat,
} from "../../lib/schemas";

export const exampleMemberId = "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

const roles = ["owner", "admin", "member"] as const;
export type Role = (typeof roles)[number];

const roleDescription =
  "`owner` and `admin` see and change everything in the organization, `member` only their own time entries. Only an owner grants or takes away `owner`; an admin never changes an owner.";

const profileDescription =
  "The person as this organization knows them: the address, name and avatar are the membership's, set when the organization adds them and changed with PATCH. Another organization the same person belongs to keeps its own, and neither sees nor changes the other's.";

// Left out, a field keeps its value (a reinstated member's included); null clears it.
const profileFields = {
  full_name: Name.nullable()
    .optional()
    .openapi({ description: "The person's name in this organization; null for none.", example: "Grace Hopper" }),
  avatar_url: WebUrl.nullable()
    .optional()
    .openapi({
      ...webUrlFormat("https://example.com/grace.png"),
      description: "An http(s) URL without credentials; null for none.",
    }),
};

export const MemberRole = z.enum(roles, { message: "Must be owner, admin or member" }).openapi({
  description: roleDescription,
  example: "member",
});

export const Member = z
  .object({
    id: Id.openapi({ description: "The member's user id (the `sub` of their tokens).", example: exampleMemberId }),
    role: MemberRole,
    status: z.enum(["active", "removed"]).openapi({
      description:
        "`removed`: offboarded. The membership, the user and every hour they logged stay; their tokens are refused (403) and no new entries can be recorded for them.",
      example: "active",
    }),
    joined_at: UtcTimestamp.openapi({
      description: "When the membership last became active: when the person was added, or reinstated.",
    }),
    removed_at: UtcTimestamp.nullable().openapi({
      description: "When the member was removed; null while active.",
      example: null,
    }),
    version: Version,
    user: z
      .object({
        id: Id.openapi({ example: exampleMemberId }),
        email: z.string().openapi({
          description: "The address as this organization gave it when it added (or last reinstated) the person.",
          example: "grace@example.com",
        }),
        full_name: z.string().nullable().openapi({ example: "Grace Hopper" }),
        avatar_url: z.string().nullable().openapi({ example: null }),
      })
      .openapi({ description: profileDescription }),
  })
  .openapi("Member");

export type Member = z.infer<typeof Member>;

export const MemberEnvelope = z.object({ data: Member }).openapi("MemberResponse");
export const MemberPage = z.object({ data: z.array(Member), meta: PageMeta }).openapi("MemberList");

export const ListMembersQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    role: MemberRole.optional().openapi({ description: "Only members with this role.", example: "admin" }),
    status: z
      .enum(["active", "removed", "all"], { message: "Must be active, removed or all" })
      .default("active")
      .openapi({ description: "`active` (the default), `removed` (offboarded) or `all`.", example: "all" }),
    q: Text(200).optional().openapi({
      description: "Case-insensitive substring of the name or e-mail address; `%` and `_` match themselves.",
      example: "grace",
    }),
  })
  .strict();

export type ListMembersQuery = z.infer<typeof ListMembersQuery>;

export const UserIdParams = z.object({
  userId: Id.openapi({
    param: { name: "userId", in: "path" },
    description: "The member's user id (UUID).",
    example: exampleMemberId,
  }),
});

export const AddMemberBody = z
  .object({
    email: EmailAddress.openapi({
      description: "Compared case-insensitively with existing users.",
      example: "grace@example.com",
    }),
    ...profileFields,
    role: MemberRole,
  })
  .strict()
  .openapi("AddMember", { example: { email: "grace@example.com", full_name: "Grace Hopper", role: "member" } });

export type AddMemberBody = z.infer<typeof AddMemberBody>;

export const UpdateMemberBody = z
  .object({ role: MemberRole.optional(), ...profileFields })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("UpdateMember", { minProperties: 1, example: { role: "admin", full_name: "Grace B. Hopper" } });

export type UpdateMemberBody = z.infer<typeof UpdateMemberBody>;
