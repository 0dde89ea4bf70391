"""Every GraphQL document the Pluvo hook sends, by operation name (:data:`DOCUMENTS`).

Written on Pluvo's published operations (the project's Pluvo facts; Pluvo's ``*-2`` developer pages first):

- variables are declared only with published scalar and enum types (``UUID``, ``String``, ``Int``,
  ``Boolean``, ``DateTime``, ``Role``, ``TrainingRole``); input objects are written inline, as Pluvo's own
  recipes do (``user: { name: $name, ref: $ref }``), because the input types' names are not published;
- every name a page does not show is marked ``# ASSUMPTION:`` beside the document that relies on it;
- a variable the hook leaves out is an argument not given (GraphQL's rule), so optional filters are
  declared once and sent only when set.

``tests/unit/test_pluvo_documents.py`` validates each document against the schema the sandbox serves.
"""

from __future__ import annotations

__all__ = ["DOCUMENTS", "PAGE_INFO", "USER_FIELDS"]

#: What the hook reads of a user (users-2's example selection, without the group lists).
USER_FIELDS = "id ref name email archived roles"
#: Relay page info (pagination page).
PAGE_INFO = "pageInfo { hasNextPage endCursor } count"
_TRAINING_FIELDS = "id ref title isActive archived startDate endDate"
_OFFER_EVENT_FIELDS = (
    "id ref title type maxSubscriptions enrolledCount spotsAvailable cancelled "
    "dates { id startDate endDate } accessTrainings { id ref title }"
)

DOCUMENTS: dict[str, str] = {
    # -- users (users-2) -------------------------------------------------------------------------------
    "PluvoUser": f"query PluvoUser($id: UUID, $ref: String) {{ user(id: $id, ref: $ref) {{ {USER_FIELDS} }} }}",
    # ASSUMPTION: the argument is named `email`; users-2 says a user can be found by e-mail but shows no example.
    "PluvoUserByEmail": f"query PluvoUserByEmail($email: String!) {{ user(email: $email) {{ {USER_FIELDS} }} }}",
    "PluvoPaginatedUsers": (
        "query PluvoPaginatedUsers($first: Int, $after: String, $q: String, $archived: Boolean, "
        "$userRoles: [Role!], $groupIds: [UUID!], $trainingIds: [UUID!], $lastLoginGt: DateTime, "
        "$lastLoginLt: DateTime) { paginatedUsers(first: $first, after: $after, q: $q, archived: $archived, "
        "userRoles: $userRoles, groupIds: $groupIds, trainingIds: $trainingIds, lastLogin_Gt: $lastLoginGt, "
        f"lastLogin_Lt: $lastLoginLt) {{ edges {{ node {{ {USER_FIELDS} }} }} {PAGE_INFO} }} }}"
    ),
    # common-recipes' SyncUser: look up by e-mail, keep our ref, no invitation unless asked.
    "PluvoUpdateOrCreateUser": (
        "mutation PluvoUpdateOrCreateUser($email: String!, $name: String!, $ref: String, $sendInvite: Boolean!) "
        "{ updateOrCreateUser(email: $email, sendInvite: $sendInvite, "
        f"user: {{ name: $name, ref: $ref, roles: [PARTICIPANT] }}) {{ user {{ {USER_FIELDS} }} created }} }}"
    ),
    # -- groups (groups-2, group-user-manager-2) --------------------------------------------------------
    "PluvoPaginatedGroups": (
        "query PluvoPaginatedGroups($first: Int, $after: String, $q: String) "
        "{ paginatedGroups(q: $q, first: $first, after: $after) "
        f"{{ edges {{ node {{ id ref name userCount }} }} {PAGE_INFO} }} }}"
    ),
    # common-recipes: group(ref:) { users(first: 50) { ... } }.
    # ASSUMPTION: `after` on Group.users, as on every other connection (the recipe pages no further).
    "PluvoGroupMembers": (
        "query PluvoGroupMembers($id: UUID, $ref: String, $first: Int, $after: String) "
        "{ group(id: $id, ref: $ref) { id users(first: $first, after: $after) "
        f"{{ edges {{ node {{ {USER_FIELDS} }} }} {PAGE_INFO} }} }} }}"
    ),
    "PluvoAddUsersToGroup": (
        "mutation PluvoAddUsersToGroup($groupId: UUID, $groupRef: String, $userIds: [UUID!], $userRefs: [String!]) "
        "{ addUsersToGroup(groupId: $groupId, groupRef: $groupRef, userIds: $userIds, userRefs: $userRefs) "
        "{ addedIds alreadyAddedIds failedIds } }"
    ),
    "PluvoRemoveUsersFromGroup": (
        "mutation PluvoRemoveUsersFromGroup($groupId: UUID, $groupRef: String, $userIds: [UUID!], "
        "$userRefs: [String!]) { removeUsersFromGroup(groupId: $groupId, groupRef: $groupRef, userIds: $userIds, "
        "userRefs: $userRefs) { removedIds alreadyRemovedIds failedIds } }"
    ),
    # -- trainings (learning-journeys-2, training-participants) ------------------------------------------
    "PluvoPaginatedTrainings": (
        "query PluvoPaginatedTrainings($first: Int, $after: String, $q: String, $active: Boolean, "
        "$archived: Boolean) { paginatedTrainings(q: $q, active: $active, archived: $archived, first: $first, "
        f"after: $after) {{ edges {{ node {{ {_TRAINING_FIELDS} }} }} {PAGE_INFO} }} }}"
    ),
    "PluvoTraining": (
        f"query PluvoTraining($id: UUID, $ref: String) {{ training(id: $id, ref: $ref) {{ {_TRAINING_FIELDS} }} }}"
    ),
    "PluvoAddUsersToTraining": (
        "mutation PluvoAddUsersToTraining($trainingId: UUID, $trainingRef: String, $userIds: [UUID!], "
        "$userRefs: [String!], $sendInvites: Boolean!, $role: TrainingRole) { addUsersToTraining("
        "trainingId: $trainingId, trainingRef: $trainingRef, userIds: $userIds, userRefs: $userRefs, "
        "sendInvites: $sendInvites, role: $role) "
        "{ addedIds addedRefs alreadyAddedIds alreadyAddedRefs failedIds failedRefs } }"
    ),
    "PluvoRemoveUsersFromTraining": (
        "mutation PluvoRemoveUsersFromTraining($trainingId: UUID, $trainingRef: String, $userIds: [UUID!], "
        "$userRefs: [String!]) { removeUsersFromTraining(trainingId: $trainingId, trainingRef: $trainingRef, "
        "userIds: $userIds, userRefs: $userRefs) { removedIds removedRefs alreadyRemovedIds alreadyRemovedRefs "
        "idsLinkedViaObject refsLinkedViaObject failedIds failedRefs } }"
    ),
    # -- offers, offer events, enrollments (offer, offerevent-date-2, common-recipes, enrollments) ---------
    # ASSUMPTION: `offer` and its fields are on the older offer page only (no newer copy).
    "PluvoOffer": (
        "query PluvoOffer($id: UUID, $ref: String) { offer(id: $id, ref: $ref) "
        f"{{ id ref title description isActive offerEvents {{ {_OFFER_EVENT_FIELDS} }} }} }}"
    ),
    "PluvoOfferEvent": f"query PluvoOfferEvent($id: UUID!) {{ offerEvent(id: $id) {{ {_OFFER_EVENT_FIELDS} }} }}",
    # common-recipes' EnrollGroup: refs only, no mail unless asked.
    # ASSUMPTION: the answer is a list of enrollments (id, user, status) as the recipe selects it.
    "PluvoCreateOfferEventEnrollments": (
        "mutation PluvoCreateOfferEventEnrollments($offerEventRef: String!, $userRefs: [String!]!, "
        "$sendMail: Boolean!) { createOfferEventEnrollments(offerEventRef: $offerEventRef, userRefs: $userRefs, "
        "sendMail: $sendMail) { id user { id ref } status } }"
    ),
    # ASSUMPTION: `enrollments(userId:)` and Enrollment's fields are on the older enrollments page only; the
    # hook reads them to see an existing enrollment before it enrolls (a re-run then changes nothing).
    "PluvoEnrollments": (
        "query PluvoEnrollments($userId: UUID) { enrollments(userId: $userId) { id offerEventId status enrolledAt } }"
    ),
    # -- progress (concept-architecture-2, common-recipes) ------------------------------------------------
    # common-recipes' GroupProgress, as published.
    "PluvoGroupProgress": (
        "query PluvoGroupProgress($groupIds: [UUID], $first: Int, $after: String) { portfolioReport("
        "userGroupIds: $groupIds, relatedObjectTypes: [TRAINING], first: $first, after: $after) "
        "{ edges { node { user { id ref name email } title progress score completionDate "
        f"timeSpent {{ days seconds }} }} }} {PAGE_INFO} }} }}"
    ),
    # ASSUMPTION: the per-learner and per-training filters `userIds` and `relatedObjectIds`, and the node's
    # `relatedObjectId`, are unpublished (the recipe filters by group only).
    "PluvoPortfolioReport": (
        "query PluvoPortfolioReport($userIds: [UUID], $trainingIds: [UUID], $first: Int, $after: String) "
        "{ portfolioReport(userIds: $userIds, relatedObjectIds: $trainingIds, relatedObjectTypes: [TRAINING], "
        "first: $first, after: $after) { edges { node { user { id ref name email } title progress score "
        f"completionDate timeSpent {{ days seconds }} relatedObjectId }} }} {PAGE_INFO} }} }}"
    ),
    # -- certificates (certificate-2, portfolioitems) --------------------------------------------------------
    "PluvoCertificates": (
        "query PluvoCertificates($first: Int, $after: String) { certificates(first: $first, after: $after) "
        f"{{ edges {{ node {{ id name title }} }} {PAGE_INFO} }} }}"
    ),
    "PluvoGenerateCertificate": (
        "mutation PluvoGenerateCertificate($id: UUID!, $userIds: [UUID!]!, $trainingId: UUID, $title: String, "
        "$issueDate: DateTime) { generateCertificate(id: $id, title: $title, userIds: $userIds, "
        "trainingId: $trainingId, issueDate: $issueDate) { bulkGenerate { succeededIds failedIds } } }"
    ),
    # ASSUMPTION: `portfolioItems(userId:)` and PortfolioItem's fields are on the older portfolioitems page only.
    "PluvoPortfolioItems": (
        "query PluvoPortfolioItems($userId: UUID) { portfolioItems(userId: $userId) "
        "{ id title description startDate endDate files createdAt } }"
    ),
    # The cheapest request that proves the token and the endpoint (any GraphQL server answers it).
    "PluvoConnectionTest": "query PluvoConnectionTest { __typename }",
}
